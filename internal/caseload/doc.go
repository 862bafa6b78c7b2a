// Package caseload builds the caseload of a probation officer (CPIP) or a
// PJJ educator: the TIG measures of a perimeter with their legal deadline,
// hours left and the flags that ask for action (deadline near, no
// proposal, incident), filtered, sorted and paged. It reads the store and
// returns plain values; the web page (internal/httpapi) only renders them.
package caseload
