// Package auth implements atigip.Authenticator: signed development tokens
// (DevTokens, HS256 via golang-jwt), OpenID Connect bearer tokens of an
// identity provider such as ProConnect (professionals) or FranceConnect
// (people) via coreos/go-oidc (OIDC), and a Chain trying several.
//
// Routes never see which one was used: they receive an atigip.Principal.
// Production refuses development tokens unless explicitly enabled
// (Config.AllowDevTokens), since anyone holding the secret can mint any role.
package auth
