package httpapi

// devRoutes are the development sign-in routes; they exist only when
// Options.Dev is set and a DevIssuer is given.
func (s *Server) devRoutes() []Route {
	if !s.opts.Dev || s.opts.DevIssuer == nil {
		return nil
	}
	return nil
}
