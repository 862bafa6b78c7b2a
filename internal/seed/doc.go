// Package seed builds the deterministic national demo data set of ATIGIP
// 360 from the real reference data embedded in internal/refdata: the 176
// real penitentiary establishments, host organisations and TIG posts placed
// in real communes weighted by population, ROME codes and French job titles
// from the real ROME referential, floor spaces, work and training offers,
// person profiles, TIG measures in every state and detainees' applications.
//
// Everything personal is fictitious: pseudonyms, case references, contact
// names, e-mail addresses (reserved .test domain) and telephone numbers
// (ARCEP ranges reserved for fiction). Prison coordinates are commune
// centres, and the data says so.
//
// Generate is pure: the same Options (Seed, Scale, Now) give the same
// Dataset, byte for byte (see Dataset.Hash). Run generates, then inserts
// parents before children in one transaction with CreateMany batches.
package seed
