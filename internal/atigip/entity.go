package atigip

import "time"

// Kind names a type of entity. It is the table name in the stores, the
// path segment in the API and the kind carried by the change feed.
type Kind string

// The entity kinds. Sensitive kinds hold personal data (see Kind.Sensitive).
const (
	KindOrganisation Kind = "organisations"
	KindPost         Kind = "posts"
	KindPrison       Kind = "prisons"
	KindFloorSpace   Kind = "floor_spaces"
	KindOffer        Kind = "offers"
	KindPerson       Kind = "people"
	KindMeasure      Kind = "measures"
	KindApplication  Kind = "applications"
)

// Kinds lists every entity kind, in dependency order (parents first).
var Kinds = []Kind{
	KindOrganisation, KindPost, KindPrison, KindFloorSpace,
	KindOffer, KindPerson, KindMeasure, KindApplication,
}

// Sensitive reports whether entities of kind k hold personal data: they are
// never shown to public or business roles, never indexed publicly, and every
// read is audited.
func (k Kind) Sensitive() bool {
	return k == KindPerson || k == KindMeasure || k == KindApplication ||
		k == KindFlowMessage || k == KindMeasureLog
}

// Meta is the bookkeeping every stored entity carries. Stores set ID,
// Version and the timestamps; clients send Version back on update.
type Meta struct {
	ID        int64     `json:"id"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// GetMeta gives stores access to the bookkeeping of any entity.
func (m *Meta) GetMeta() *Meta { return m }

// Keys are the fields stores index for filtering, extracted from each entity
// so that one generic table layout serves every kind.
type Keys struct {
	Departement string   // INSEE code of the département ("69", "2A", "971")
	Commune     string   // INSEE code of the commune
	Status      string   // the entity's status or state
	Parent      int64    // organisation of a post, prison of a floor space or offer, person of a measure
	ROME        []string // ROME codes
	Public      bool     // visible to the public audience
	// Ref is a unique external reference ("crm:123", "APPI:0123456"), empty
	// when none: stores enforce its uniqueness per kind, which makes
	// imports and flows idempotent.
	Ref string
	// Owner is the person (Person id) a record is about when it is not the
	// person's profile itself: the person of a measure, of an application
	// (whose Parent is the offer). 0 for records about nobody.
	Owner int64
}

// Entity is what stores persist. Pointer types of the domain structs
// implement it.
type Entity interface {
	GetMeta() *Meta
	Kind() Kind
	Validate() error
	Keys() Keys
}

// New returns a new zero entity of kind k (including WorkflowKinds), or
// nil for an unknown kind.
func New(k Kind) Entity {
	switch k {
	case KindOrganisation:
		return &Organisation{}
	case KindPost:
		return &Post{}
	case KindPrison:
		return &Prison{}
	case KindFloorSpace:
		return &FloorSpace{}
	case KindOffer:
		return &Offer{}
	case KindPerson:
		return &Person{}
	case KindMeasure:
		return &Measure{}
	case KindApplication:
		return &Application{}
	}
	return newWorkflowEntity(k)
}
