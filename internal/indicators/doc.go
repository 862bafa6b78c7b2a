// Package indicators computes the contract's indicators from the store:
// TIG posts offered (total, open, by département), the delay from sentence
// to the start of the TIG (median and 90th percentile, by département and
// by month), the share of measures completed, the share of detainees who
// worked or trained in the year, and the number of businesses offering
// posts in prison. Compute reads every entity once, in a streaming scan;
// WriteCSV exports a report as long-format CSV. The package imports only
// the standard library and internal/atigip.
package indicators
