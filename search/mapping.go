package search

import (
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"
)

// MappingVersion identifies the index layout: the mapping below and the way
// documents are built from entities. Change it whenever either changes, so
// that an index written by an older binary is rebuilt rather than trusted.
const MappingVersion = "atigip-search-12"

// Field names of an indexed document.
const (
	fType        = "type"
	fSubtype     = "subtype"
	fAudience    = "audience"
	fTitle       = "title"
	fBody        = "body"
	fParent      = "parent"
	fPlace       = "place"
	fCity        = "city"
	fROME        = "rome"
	fROMEDomain  = "rome_domain"
	fROMELabel   = "rome_label"
	fDepartement = "departement"
	fRegion      = "region"
	fCommune     = "commune"
	fLocation    = "location"
	fLat         = "lat"
	fLon         = "lon"
	fMinors      = "minors"
	fWeekends    = "weekends"
	fWheelchair  = "wheelchair"
	fAvailable   = "available"
	fPlacesLeft  = "places_left"
	fStatus      = "status"
	fUpdated     = "updated"
	// fUpdatedKey orders by date: one short keyword per document
	// ("20260131235959"), where the datetime field keeps sixteen
	// prefix-coded terms per value that the date sort had to decompress
	// for every match.
	fUpdatedKey = "updated_key"
	// fWords holds the words of the text fields unstemmed (see wordsName):
	// its term dictionary, with each word's document count, is the
	// dictionary typo correction looks words up in. It is never scored.
	fWords = "words"
	// fFacet holds the values of every facet under a one-byte key (see
	// facetDefs): one field to visit per match instead of nine makes
	// facet counting several times faster.
	fFacet = "facet"
)

// pairSuffix names the pair field of a text field: its consecutive token
// pairs as single terms, which answer a quoted phrase with term lookups.
// Bleve's phrase search compares positions in every document holding all
// the words of the phrase, across France, before the other conditions
// can cut; "espaces verts" in one région cost as much as nationwide.
const pairSuffix = "_pairs"

// Text fields searched by user words and the relative weight of a match in
// each: a word in the title says more than the same word deep in a
// description; the ROME label is a generic job name shared by many posts.
var textFields = []struct {
	name  string
	boost float64
}{
	{fTitle, 3},
	{fBody, 1},
	{fParent, 1.5},
	{fPlace, 2},
	{fROMELabel, 1},
}

func newMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	if err := addAnalyzer(m); err != nil {
		return nil, err
	}
	m.DefaultAnalyzer = analyzerName
	m.StoreDynamic = false
	m.IndexDynamic = false
	m.DocValuesDynamic = false

	keywordField := func(store bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = store
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		return f
	}
	// filterField is a keyword only filtered, faceted or sorted on,
	// never scored: it keeps no term frequencies and norms.
	filterField := func(store bool) *mapping.FieldMapping {
		f := keywordField(store)
		f.SkipFreqNorm = true
		return f
	}
	textField := func(store bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzerName
		f.Store = store
		// Term vectors (positions) serve phrases and highlighting.
		f.IncludeTermVectors = store
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	storedOnly := func(f *mapping.FieldMapping) *mapping.FieldMapping {
		f.Index = false
		f.Store = true
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	boolField := func() *mapping.FieldMapping {
		f := bleve.NewBooleanFieldMapping()
		f.Store = false
		f.IncludeInAll = false
		return f
	}

	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt(fType, filterField(true))
	doc.AddFieldMappingsAt(fSubtype, filterField(true))
	doc.AddFieldMappingsAt(fAudience, filterField(false))
	pairField := func(name string) *mapping.FieldMapping {
		f := textField(false)
		f.Name = name + pairSuffix
		f.Analyzer = pairName
		return f
	}
	doc.AddFieldMappingsAt(fTitle, textField(true), pairField(fTitle))
	doc.AddFieldMappingsAt(fBody, textField(true), pairField(fBody))
	doc.AddFieldMappingsAt(fParent, textField(true), pairField(fParent))
	doc.AddFieldMappingsAt(fPlace, textField(false))
	doc.AddFieldMappingsAt(fCity, storedOnly(bleve.NewTextFieldMapping()))
	doc.AddFieldMappingsAt(fROME, keywordField(true))
	doc.AddFieldMappingsAt(fROMEDomain, filterField(false))
	doc.AddFieldMappingsAt(fROMELabel, textField(false))
	doc.AddFieldMappingsAt(fDepartement, filterField(true))
	doc.AddFieldMappingsAt(fRegion, filterField(false))
	doc.AddFieldMappingsAt(fCommune, filterField(false))
	geo := bleve.NewGeoPointFieldMapping()
	geo.Store = false
	geo.IncludeInAll = false
	doc.AddFieldMappingsAt(fLocation, geo)
	doc.AddFieldMappingsAt(fLat, storedOnly(bleve.NewNumericFieldMapping()))
	doc.AddFieldMappingsAt(fLon, storedOnly(bleve.NewNumericFieldMapping()))
	doc.AddFieldMappingsAt(fMinors, boolField())
	doc.AddFieldMappingsAt(fWeekends, boolField())
	doc.AddFieldMappingsAt(fWheelchair, boolField())
	doc.AddFieldMappingsAt(fAvailable, boolField())
	doc.AddFieldMappingsAt(fPlacesLeft, storedOnly(bleve.NewNumericFieldMapping()))
	doc.AddFieldMappingsAt(fStatus, filterField(true))
	doc.AddFieldMappingsAt(fFacet, filterField(false))
	words := textField(false)
	words.Analyzer = wordsName
	words.SkipFreqNorm = true
	doc.AddFieldMappingsAt(fWords, words)
	doc.AddFieldMappingsAt(fUpdated, storedOnly(bleve.NewDateTimeFieldMapping()))
	doc.AddFieldMappingsAt(fUpdatedKey, filterField(false))

	m.DefaultMapping = doc
	m.DefaultType = "doc"
	m.TypeField = "_doctype"
	return m, nil
}
