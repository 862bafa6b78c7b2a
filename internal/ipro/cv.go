package ipro

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// CV is what the French CV shows: no identity (the profile holds a
// pseudonym; the person writes their name on the printed CV), the jobs
// sought, skills, diplomas, experience (in detention included), wishes
// and mobility.
type CV struct {
	Pseudonym  string
	Jobs       []string // ROME titles sought or held
	Skills     []string
	Diplomas   []string
	Experience []Experience
	// Declared is the experience the person wrote.
	Declared string
	Wishes   string
	Mobility string
	Made     time.Time
}

// WriteCV writes cv as an A4 PDF in French. The Go fonts (TrueType,
// UTF-8) are embedded: accents render.
func WriteCV(w io.Writer, cv CV) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetTitle("Curriculum vitae", true)
	pdf.SetCreator("ATIGIP 360", true)
	pdf.AddUTF8FontFromBytes("go", "", goregular.TTF)
	pdf.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	pdf.SetMargins(18, 18, 18)
	pdf.SetAutoPageBreak(true, 18)
	pdf.AddPage()
	pdf.SetFont("go", "B", 20)
	pdf.CellFormat(0, 10, "Curriculum vitae", "", 1, "L", false, 0, "")
	pdf.SetFont("go", "", 10)
	pdf.SetTextColor(90, 90, 90)
	pdf.MultiCell(0, 5, "Nom et prénom : ______________________________   Téléphone : __________________", "", "L", false)
	pdf.MultiCell(0, 5, fmt.Sprintf("Profil professionnel %s, établi le %s.", cv.Pseudonym, cv.Made.Format("02/01/2006")), "", "L", false)
	pdf.SetTextColor(0, 0, 0)
	section := func(title string) {
		pdf.Ln(4)
		pdf.SetFont("go", "B", 13)
		pdf.SetTextColor(0, 0, 145)
		pdf.CellFormat(0, 8, title, "B", 1, "L", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
		pdf.SetFont("go", "", 11)
		pdf.Ln(1)
	}
	bullets := func(items []string, empty string) {
		if len(items) == 0 {
			pdf.MultiCell(0, 6, empty, "", "L", false)
			return
		}
		for _, it := range items {
			pdf.MultiCell(0, 6, "• "+it, "", "L", false)
		}
	}
	section("Métiers recherchés")
	bullets(cv.Jobs, "Non renseigné.")
	section("Expérience professionnelle")
	if len(cv.Experience) == 0 && strings.TrimSpace(cv.Declared) == "" {
		pdf.MultiCell(0, 6, "Non renseignée.", "", "L", false)
	}
	for _, e := range cv.Experience {
		when := "depuis le " + e.From.Format("02/01/2006")
		if e.To != nil {
			when = "du " + e.From.Format("02/01/2006") + " au " + e.To.Format("02/01/2006")
		}
		pdf.SetFont("go", "B", 11)
		pdf.MultiCell(0, 6, e.Title+" — "+when, "", "L", false)
		pdf.SetFont("go", "", 11)
		line := e.Kind
		if e.Employer != "" {
			line += ", " + e.Employer
		}
		if e.Hours > 0 {
			line += ", " + matchingNum(e.Hours) + " h par semaine"
		}
		pdf.MultiCell(0, 6, line, "", "L", false)
		pdf.Ln(1)
	}
	if d := strings.TrimSpace(cv.Declared); d != "" {
		pdf.MultiCell(0, 6, d, "", "L", false)
	}
	section("Compétences")
	bullets(cv.Skills, "Non renseignées.")
	section("Diplômes et formations")
	bullets(cv.Diplomas, "Non renseignés.")
	section("Projet et mobilité")
	if cv.Wishes != "" {
		pdf.MultiCell(0, 6, cv.Wishes, "", "L", false)
	}
	pdf.MultiCell(0, 6, cv.Mobility, "", "L", false)
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		return fmt.Errorf("ipro: cv: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}
