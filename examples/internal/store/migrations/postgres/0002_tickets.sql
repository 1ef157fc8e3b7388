-- 0002: the tenant's current system user ticket, so that every console instance reuses it
-- for its sliding six-hour life instead of exchanging again. NULL: no ticket.
ALTER TABLE tenants ADD COLUMN ticket           BYTEA;                      -- sealed (AES-GCM, bound to this row and column)
ALTER TABLE tenants ADD COLUMN ticket_issued_at BIGINT NOT NULL DEFAULT 0;  -- when the exchange returned it
ALTER TABLE tenants ADD COLUMN ticket_used_at   BIGINT NOT NULL DEFAULT 0;  -- its last use; the life slides from here
