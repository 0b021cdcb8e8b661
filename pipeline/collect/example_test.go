package collect_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/failcast/failcast/pipeline/collect"
)

// A receiver mounted in a server of the caller's: Meta's handshake, then a
// signed body, stored as one line of the current file. Run does the same
// on its own listener and shuts down on context cancellation.
func ExampleNewServer() {
	dir, _ := os.MkdirTemp("", "collect-example")
	defer os.RemoveAll(dir)
	secrets := collect.Secrets{AppSecrets: [][]byte{[]byte("app-secret")}, VerifyToken: "verify-me"}
	srv, err := collect.NewServer(collect.Config{Dir: dir, NoCompress: true}, secrets, nil)
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	resp, _ := http.Get(ts.URL + "/webhook?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444")
	fmt.Println("handshake:", resp.StatusCode)
	resp.Body.Close()

	body := `{"object":"whatsapp_business_account","entry":[]}`
	for _, sig := range []string{collect.Sign([]byte("app-secret"), []byte(body)), "sha256=00"} {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/webhook", strings.NewReader(body))
		req.Header.Set("X-Hub-Signature-256", sig)
		resp, _ := http.DefaultClient.Do(req)
		fmt.Println("post:", resp.StatusCode)
		resp.Body.Close()
	}
	srv.Close()

	files, _ := filepath.Glob(filepath.Join(dir, "webhooks-*.ndjson"))
	data, _ := os.ReadFile(files[0])
	fmt.Print(len(files), " file: ", string(data))
	// Output:
	// handshake: 200
	// post: 200
	// post: 401
	// 1 file: {"object":"whatsapp_business_account","entry":[]}
}
