-- 0003: the tenant's state (where its web API is, whether it runs) as the console last
-- resolved it, so that a run within the state's life makes no state request.
ALTER TABLE tenants ADD COLUMN state_json  TEXT    NOT NULL DEFAULT '';  -- tenant.State as JSON; '': none
ALTER TABLE tenants ADD COLUMN state_until INTEGER NOT NULL DEFAULT 0;   -- when it must be looked up again
