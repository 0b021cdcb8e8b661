# The failcast image, built in two stages: a Go builder image compiles a
# static binary, a scratch image holds it with a non-root user.
#
#   podman build -t failcast --build-arg REVISION=$(git rev-parse HEAD) .
#   (or: make image-multistage; make image builds the binary on the host)
#
# cgo stays on: golearn's logistic regression (liblinear) is C++, so the
# binary is linked statically by the C toolchain of the builder image.
ARG GO_IMAGE=golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG REVISION=""
RUN CGO_ENABLED=1 go build -trimpath -tags netgo,osusergo \
      -ldflags "-linkmode external -extldflags -static -X github.com/failcast/failcast/internal/buildinfo.revision=${REVISION}" \
      -o /out/failcast ./cmd/failcast \
 && /out/failcast --version \
 && echo 'failcast:x:10001:10001:failcast:/nonexistent:/sbin/nologin' > /out/passwd \
 && echo 'failcast:x:10001:' > /out/group

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
COPY --from=build /out/failcast /usr/local/bin/failcast
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/failcast"]
CMD ["--help"]
