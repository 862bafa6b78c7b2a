package main

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progressBar draws the advancement the cores report (seed, search
// reindex) as progress bars on w: a new bar when the phase changes.
// finish ends the last one.
func progressBar(w io.Writer, unit string) (report func(phase, label string, done, total int), finish func()) {
	var bar *progressbar.ProgressBar
	var cur string
	finish = func() {
		if bar != nil {
			_ = bar.Finish() // a display error never fails the command
			bar = nil
		}
	}
	report = func(phase, label string, done, total int) {
		if bar == nil || phase != cur {
			finish()
			cur = phase
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetWidth(30),
				progressbar.OptionShowCount(),
				progressbar.OptionSetItsString(unit),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
			)
		}
		if label != "" {
			bar.Describe(label)
		}
		_ = bar.Set(done)
	}
	return report, finish
}
