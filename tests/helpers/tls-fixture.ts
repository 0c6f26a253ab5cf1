// A self-signed certificate for hooks.example.test (P-256, valid until 2126), made for tests with
// openssl req -x509. No client trusts it, which is the point: TLS tests show verification stays on.
export const selfSignedKey = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg8HUNH17oIrZ2qVtc
ym55CSZlbzQG+oUzlj2WbjsP9duhRANCAASPWT+bcHS57Ij4bailKb+PP4+mlhhw
2peCI0r6pJiOd5b39hA7ZOqrCG+QuLCa+UGmcVqn+pPjHntRFeyHevvh
-----END PRIVATE KEY-----
`

export const selfSignedCert = `-----BEGIN CERTIFICATE-----
MIIBsDCCAVagAwIBAgIUX4JgtfHPO6oo4TAr3DjofYWTG4kwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSaG9va3MuZXhhbXBsZS50ZXN0MCAXDTI2MTIwMjA0MDIwM1oY
DzIxMjYxMTA4MDQwMjAzWjAdMRswGQYDVQQDDBJob29rcy5leGFtcGxlLnRlc3Qw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASPWT+bcHS57Ij4bailKb+PP4+mlhhw
2peCI0r6pJiOd5b39hA7ZOqrCG+QuLCa+UGmcVqn+pPjHntRFeyHevvho3IwcDAd
BgNVHQ4EFgQUfL5YY0R3YK85sOQKnhfrPEHPKhUwHwYDVR0jBBgwFoAUfL5YY0R3
YK85sOQKnhfrPEHPKhUwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHREEFjAUghJob29r
cy5leGFtcGxlLnRlc3QwCgYIKoZIzj0EAwIDSAAwRQIgcYySlCU2cXe2wH8zxv4m
Wj4e8+0xDAPZcqHwmegynn8CIQDWaUJ6npm6EkMXWVKvCw7V3b1XWRPb4boTZ74l
ymK1dw==
-----END CERTIFICATE-----
`
