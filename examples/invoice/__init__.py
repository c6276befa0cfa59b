"""An invoicing example of our own: invoices in declarative style, a custom
transcoding for invoice lines, and a versioned created event whose old stored
events and snapshots are upcast."""
