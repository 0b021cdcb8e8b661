package collect

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeSelfSigned writes a certificate for 127.0.0.1 and its key.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "collect test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLS(t *testing.T) {
	tmp := t.TempDir()
	certFile, keyFile, pool := writeSelfSigned(t, tmp)
	dir := filepath.Join(tmp, "out")
	srv, err := NewServer(Config{Dir: dir, TLSCertFile: certFile, TLSKeyFile: keyFile}, testSecrets, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	body := exampleBodies(t)[0]
	if code, err := postSigned(client, "https://"+ln.Addr().String()+"/webhook", body); err != nil || code != 200 {
		t.Fatalf("HTTPS post: %d %v", code, err)
	}
	if code, err := postSigned(http.DefaultClient, "http://"+ln.Addr().String()+"/webhook", body); err == nil && code == 200 {
		t.Errorf("plain HTTP on the TLS port got a 200")
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if got := storedLines(t, dir); len(got) != 1 || got[0] != body {
		t.Errorf("stored %q, want the one body", got)
	}

	// Bad certificate files fail Run at start, naming TLS.
	err = Run(context.Background(), Config{Addr: "127.0.0.1:0", Dir: dir, TLSCertFile: keyFile, TLSKeyFile: certFile}, testSecrets, nil)
	if err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("Run with swapped cert and key: %v, want a TLS error", err)
	}
}
