package matching

import "fmt"

// Config holds every weight and threshold of matching, in one place.
// A score is Σ weight × term with every term in [0, 1]; with the default
// weights (which sum to 1) a score is in [0, 1] too.
type Config struct {
	// WeightROME rewards the same ROME job (1), the same domaine
	// professionnel (ROMESameDomain) or the same grand domaine
	// (ROMESameGrandDomain) between the person's jobs and the post's.
	WeightROME float64
	// WeightSkills rewards shared ROME skills: the person's declared
	// skills and the core skills of their jobs against the post's skills
	// and the core skills of its jobs (overlap coefficient).
	WeightSkills float64
	// WeightText rewards the text fit between the person's experience and
	// wishes and the post's title and description (TextScorer).
	WeightText float64
	// WeightDistance rewards nearby posts: exp(-km / DistanceScaleKm).
	WeightDistance float64
	// WeightSchedule rewards the share of the post's weekly hours that
	// fall within the person's declared availability.
	WeightSchedule float64
	// WeightUrgency favours people whose deadline is near: 1 at the
	// deadline, 0 at UrgencyHorizonDays or more.
	WeightUrgency float64
	// WeightLoad spreads people across host organisations: 1 − the
	// organisation's occupancy (places taken / places). In a global
	// assignment it is the marginal value of one more person there, so
	// the load of an organisation has a convex cost.
	WeightLoad float64

	ROMESameDomain      float64 // partial credit, same domaine professionnel ("A12")
	ROMESameGrandDomain float64 // partial credit, same grand domaine ("A")
	// SkillsMinDenominator keeps one shared skill out of two from
	// counting as a perfect fit.
	SkillsMinDenominator int
	DistanceScaleKm      float64
	UrgencyHorizonDays   int

	// DefaultRadiusKm is the mobility radius of a person who declared none.
	DefaultRadiusKm float64
	// LegalWeekHours and ExtraWeekHours: TIG plus a declared job must stay
	// within the legal working week plus 12 hours (code du travail,
	// code pénal art. 131-22).
	LegalWeekHours float64
	ExtraWeekHours float64
	// StartDelayDays is the time between a proposal and the first day of
	// work (the judge's decision, the first interview): the hours left
	// must fit between then and the deadline.
	StartDelayDays int
	// MinOverlapHours is the least number of weekly hours the post's
	// schedule must share with a declared availability.
	MinOverlapHours float64

	// PlacementBonus is added to the score of every proposal of a global
	// assignment: with 1, placing two people always beats placing one
	// better, so the assignment places as many people as it can first.
	PlacementBonus float64
	// AssignCandidates bounds the candidate posts of each person in a
	// global assignment to the best ones by score (0: all feasible posts).
	// 20 gives the same objective as 40 on the synthetic national
	// instance (23,816.4, 96.45 % placed; 10 loses 0.3) with 45 % fewer
	// pairs, which is memory at ten times the country.
	AssignCandidates int
	// ExcludedRadiusFactor widens the search area when excluded items are
	// asked for, so that posts just beyond the radius are explained too.
	ExcludedRadiusFactor float64
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		WeightROME:           0.25,
		WeightSkills:         0.15,
		WeightText:           0.10,
		WeightDistance:       0.20,
		WeightSchedule:       0.10,
		WeightUrgency:        0.10,
		WeightLoad:           0.10,
		ROMESameDomain:       0.6,
		ROMESameGrandDomain:  0.25,
		SkillsMinDenominator: 3,
		DistanceScaleKm:      10,
		UrgencyHorizonDays:   365,
		DefaultRadiusKm:      15,
		LegalWeekHours:       35,
		ExtraWeekHours:       12,
		StartDelayDays:       30,
		MinOverlapHours:      2,
		PlacementBonus:       1,
		AssignCandidates:     20,
		ExcludedRadiusFactor: 2,
	}
}

// Validate reports a configuration that cannot give meaningful scores.
func (c Config) Validate() error {
	for _, w := range []struct {
		name string
		v    float64
	}{{"WeightROME", c.WeightROME}, {"WeightSkills", c.WeightSkills}, {"WeightText", c.WeightText},
		{"WeightDistance", c.WeightDistance}, {"WeightSchedule", c.WeightSchedule},
		{"WeightUrgency", c.WeightUrgency}, {"WeightLoad", c.WeightLoad}, {"PlacementBonus", c.PlacementBonus},
		{"ROMESameDomain", c.ROMESameDomain}, {"ROMESameGrandDomain", c.ROMESameGrandDomain}} {
		if w.v < 0 || w.v > 10 {
			return fmt.Errorf("matching: config: %s = %v, want 0..10", w.name, w.v)
		}
	}
	switch {
	case c.DistanceScaleKm <= 0:
		return fmt.Errorf("matching: config: DistanceScaleKm must be > 0")
	case c.UrgencyHorizonDays <= 0:
		return fmt.Errorf("matching: config: UrgencyHorizonDays must be > 0")
	case c.DefaultRadiusKm <= 0:
		return fmt.Errorf("matching: config: DefaultRadiusKm must be > 0")
	case c.LegalWeekHours <= 0 || c.ExtraWeekHours < 0:
		return fmt.Errorf("matching: config: LegalWeekHours must be > 0 and ExtraWeekHours >= 0")
	case c.StartDelayDays < 0 || c.MinOverlapHours < 0 || c.AssignCandidates < 0 || c.SkillsMinDenominator < 1:
		return fmt.Errorf("matching: config: StartDelayDays, MinOverlapHours, AssignCandidates must be >= 0, SkillsMinDenominator >= 1")
	case c.ExcludedRadiusFactor < 1:
		return fmt.Errorf("matching: config: ExcludedRadiusFactor must be >= 1")
	}
	return nil
}
