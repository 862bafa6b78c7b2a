// Package ipro holds the non-HTTP logic of the IPRO 360 screens: whether
// a detainee may apply to an offer and why (in plain French, from the
// matching rulebook), the professional experience in detention derived
// from assignments, the search over the ROME referential, and the French
// CV exported as PDF. It takes and returns plain Go values.
package ipro
