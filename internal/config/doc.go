// Package config holds the server's configuration: one struct with
// defaults, environment overrides and Validate(). Nothing here is global.
package config
