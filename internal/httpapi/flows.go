package httpapi

import (
	"strconv"
	"strings"
	"time"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/flows"
	"github.com/atigip/atigip360/internal/workflow"
	"github.com/gofiber/fiber/v2"
)

// HeaderAPIKey carries a machine client's API key on the flow routes.
const HeaderAPIKey = "X-API-Key"

// AckBody acknowledges the outbox up to a position.
type AckBody struct {
	UpTo int64 `json:"up_to"`
}

// AckResult says how many messages were newly acknowledged.
type AckResult struct {
	Acknowledged int   `json:"acknowledged"`
	UpTo         int64 `json:"up_to"`
}

// FlowsModule serves the flows with APPI for machine clients. They
// authenticate apart from people: with an API key in the X-API-Key header,
// whose SHA-256 digest is in clients (flows.HashKey, flows.ParseClients);
// a person's token, whatever its role, is refused there. The inspection
// of stored messages is for the DSPIP (a person, with a token). now is
// the clock (nil: time.Now).
func FlowsModule(clients flows.Clients, now func() time.Time) Module {
	return ModuleFunc(func(s *Server) []Route {
		f := &flowRoutes{s: s, clients: clients, now: now,
			rx: &flows.Receiver{Store: s.Store(), Now: now, Workflow: &workflow.Service{Store: s.Store(), Propose: flows.QueueProposal, Now: now}}}
		key := Param{Name: HeaderAPIKey, In: "header", Required: true,
			Description: "Clé d'API du client machine (rôle case_system). Son empreinte SHA-256 figure dans la configuration ; les jetons des personnes ne sont pas acceptés ici."}
		return []Route{
			{Method: fiber.MethodPost, Path: "/api/flows/inbound", Tag: "flows", Params: []Param{key},
				Summary: "Recevoir un message d'APPI (FFE11 mesure à placer, FFE13 affectation, FFE15 refus), idempotent par message_id : " +
					"200 intégré ou doublon, 202 en attente d'un message antérieur, 400 mal formé, 409 impossible (le message rejeté est conservé pour examen)",
				Body: flows.Inbound{}, Response: flows.Result{}, Status: fiber.StatusOK, Also: []int{fiber.StatusAccepted}, Handler: f.machine(f.inbound)},
			{Method: fiber.MethodGet, Path: "/api/flows/outbox", Tag: "flows",
				Params: []Param{key,
					{Name: "after", Type: "integer", Description: "Position du dernier message traité (par défaut : le dernier acquitté)"},
					{Name: "limit", Type: "integer", Description: "Messages au plus (100 par défaut, 500 au plus)"}},
				Summary:  "Relever les propositions FFS12 à transmettre au juge, dans l'ordre (au moins une fois, dans l'ordre de chaque mesure)",
				Response: flows.OutPage{}, Handler: f.machine(f.outbox)},
			{Method: fiber.MethodPost, Path: "/api/flows/outbox/ack", Tag: "flows", Params: []Param{key},
				Summary: "Acquitter les messages sortants jusqu'à une position (cumulatif)",
				Body:    AckBody{}, Response: AckResult{}, Status: fiber.StatusOK, Handler: f.machine(f.ack)},
			{Method: fiber.MethodGet, Path: "/api/flows/messages", Roles: []atigip.Role{atigip.RoleDSPIP}, Tag: "flows",
				Params: []Param{
					{Name: "status", Type: "string", Description: "rejected, held, accepted, pending, acked ; plusieurs séparés par des virgules (par défaut : rejected,held)"},
					{Name: "after", Type: "integer", Description: "Identifiants strictement supérieurs"}},
				Summary:  "Examiner les messages de flux rejetés ou en attente, avec leur motif (ceux de son département pour un DSPIP qui en a un ; le corps brut des seuls messages rejetés ou en attente)",
				Response: []*atigip.FlowMessage{}, Handler: f.messages},
		}
	})
}

type flowRoutes struct {
	s       *Server
	clients flows.Clients
	rx      *flows.Receiver
	now     func() time.Time
}

// machine authenticates the API key before h; the principal is then the
// client's, for logs and audits.
func (f *flowRoutes) machine(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := f.clients.Authenticate(c.Get(HeaderAPIKey))
		if err != nil {
			c.Set(fiber.HeaderWWWAuthenticate, `ApiKey realm="atigip360-flows"`)
			return f.s.Problem(c, err)
		}
		c.Locals(localPrincipal, p)
		c.Locals(localAuthed, true)
		c.SetUserContext(atigip.WithPrincipal(c.UserContext(), p))
		return h(c)
	}
}

func (f *flowRoutes) inbound(c *fiber.Ctx) error {
	p := f.s.Principal(c)
	// The raw body is kept: a malformed message is stored as received.
	res, err := f.rx.Receive(c.UserContext(), p, c.Body())
	if err != nil {
		return f.s.Problem(c, err)
	}
	if res.Outcome == flows.Held {
		c.Status(fiber.StatusAccepted)
	}
	return c.JSON(res)
}

func (f *flowRoutes) outbox(c *fiber.Ctx) error {
	after, limit := int64(-1), 100
	if v := c.Query("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return f.s.Problem(c, invalidParam("after", "Position entière positive attendue."))
		}
		after = n
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return f.s.Problem(c, invalidParam("limit", "Nombre entier attendu entre 1 et 500."))
		}
		limit = n
	}
	page, err := flows.Poll(c.UserContext(), f.s.Store(), after, limit)
	if err != nil {
		return f.s.Problem(c, err)
	}
	if err := f.s.Audit(c, "poll_outbox", atigip.KindFlowMessage, 0, len(page.Items)); err != nil {
		return f.s.Problem(c, err)
	}
	return c.JSON(page)
}

func (f *flowRoutes) ack(c *fiber.Ctx) error {
	var b AckBody
	if err := f.s.Decode(c, &b); err != nil {
		return f.s.Problem(c, err)
	}
	if b.UpTo <= 0 {
		return f.s.Problem(c, invalidParam("up_to", "Position entière positive attendue."))
	}
	now := time.Now
	if f.now != nil {
		now = f.now
	}
	n, err := flows.Ack(c.UserContext(), f.s.Store(), b.UpTo, now())
	if err != nil {
		return f.s.Problem(c, err)
	}
	return c.JSON(AckResult{Acknowledged: n, UpTo: b.UpTo})
}

func (f *flowRoutes) messages(c *fiber.Ctx) error {
	statuses := []atigip.FlowStatus{atigip.FlowRejected, atigip.FlowHeld}
	if v := c.Query("status"); v != "" {
		statuses = nil
		for _, s := range strings.Split(v, ",") {
			statuses = append(statuses, atigip.FlowStatus(strings.TrimSpace(s)))
		}
	}
	var after int64
	if v := c.Query("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return f.s.Problem(c, invalidParam("after", "Identifiant entier positif attendu."))
		}
		after = n
	}
	// A DSPIP bound to a département inspects its messages only; the
	// bodies (birth date, home address…) are shown only where they are to
	// be inspected, for messages rejected or held: the content of the
	// others is in the measure, read through its own perimeter.
	p := f.s.Principal(c)
	ms, err := flows.Inspect(c.UserContext(), f.s.Store(), departementOf(p), statuses, after, MaxPerPage)
	if err != nil {
		return f.s.Problem(c, err)
	}
	for _, m := range ms {
		if m.Status != atigip.FlowRejected && m.Status != atigip.FlowHeld {
			m.Body = ""
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if err := f.s.Audit(c, "list", atigip.KindFlowMessage, 0, len(ms)); err != nil {
		return f.s.Problem(c, err)
	}
	return c.JSON(ms)
}
