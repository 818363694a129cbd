import { type Kysely, sql } from 'kysely'

/**
 * Ingestion: the run (job) record, the per-run item buffer that makes runs resumable, the POI staging
 * table (strictly apart from the public `poi` table, which a later migration adds) and helper places.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE cities
      ADD COLUMN boundary jsonb,
      ADD COLUMN boundary_source text,
      ADD COLUMN boundary_fetched_at timestamptz`.execute(db)

  await sql`
    CREATE TABLE ingestion_run (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      type text NOT NULL CHECK (type IN ('osm', 'helpers', 'publish')),
      city_id integer NOT NULL REFERENCES cities (id),
      boundary_ref text NOT NULL CHECK (boundary_ref ~ '^[0-9]{1,12}$'),
      run_date date NOT NULL,
      idempotency_key text NOT NULL UNIQUE,
      status text NOT NULL DEFAULT 'QUEUED'
        CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
      source jsonb NOT NULL,
      trigger text NOT NULL CHECK (trigger IN ('admin', 'cron', 'cli', 'chain')),
      attempts integer NOT NULL DEFAULT 0,
      max_attempts integer NOT NULL CHECK (max_attempts > 0),
      error_code text,
      error_message text,
      stats jsonb,
      progress jsonb,
      checkpoint jsonb,
      cancel_requested boolean NOT NULL DEFAULT false,
      worker_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz,
      heartbeat_at timestamptz,
      CHECK ((status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')) = (finished_at IS NOT NULL)),
      CHECK (status <> 'FAILED' OR error_code IS NOT NULL)
    )`.execute(db)
  await sql`CREATE INDEX ingestion_run_list_idx ON ingestion_run (created_at DESC, id DESC)`.execute(db)
  await sql`CREATE INDEX ingestion_run_city_idx ON ingestion_run (city_id, type, created_at DESC)`.execute(db)
  await sql`CREATE INDEX ingestion_run_running_idx ON ingestion_run (heartbeat_at) WHERE status = 'RUNNING'`.execute(
    db,
  )

  // What a run fetched, normalised, in order: batches are processed from here, so a run that stops
  // (crash, slice deadline) continues at its checkpoint instead of fetching again.
  await sql`
    CREATE TABLE ingestion_run_item (
      run_id uuid NOT NULL REFERENCES ingestion_run (id) ON DELETE CASCADE,
      seq integer NOT NULL,
      osm_type text NOT NULL,
      osm_id bigint NOT NULL,
      record jsonb NOT NULL,
      content_hash text NOT NULL,
      PRIMARY KEY (run_id, seq)
    )`.execute(db)
  await sql`CREATE INDEX ingestion_run_item_osm_idx ON ingestion_run_item (run_id, osm_type, osm_id)`.execute(
    db,
  )

  await sql`
    CREATE TABLE poi_ingestion_staging (
      id bigserial PRIMARY KEY,
      city_id integer NOT NULL REFERENCES cities (id),
      osm_type text NOT NULL CHECK (osm_type IN ('node', 'way', 'relation')),
      osm_id bigint NOT NULL,
      category text NOT NULL,
      name_ru text,
      name_source text,
      names jsonb NOT NULL DEFAULT '{}',
      tags jsonb NOT NULL,
      lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
      lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
      wikidata text,
      wikipedia jsonb,
      website text,
      opening_hours text,
      phone text,
      address jsonb,
      heritage jsonb,
      source_url text NOT NULL,
      osm_version integer,
      osm_timestamp timestamptz,
      license text NOT NULL,
      attribution text NOT NULL,
      content_hash text NOT NULL,
      first_seen_run uuid NOT NULL REFERENCES ingestion_run (id),
      last_seen_run uuid NOT NULL REFERENCES ingestion_run (id),
      last_changed_run uuid NOT NULL REFERENCES ingestion_run (id),
      change_state text NOT NULL CHECK (change_state IN ('new', 'changed', 'unchanged', 'missing')),
      missing_since timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (city_id, osm_type, osm_id)
    )`.execute(db)
  await sql`CREATE INDEX poi_staging_city_state_idx ON poi_ingestion_staging (city_id, change_state)`.execute(
    db,
  )

  await sql`
    CREATE TABLE helper_place (
      id bigserial PRIMARY KEY,
      city_id integer NOT NULL REFERENCES cities (id),
      osm_type text NOT NULL CHECK (osm_type IN ('node', 'way', 'relation')),
      osm_id bigint NOT NULL,
      kind text NOT NULL,
      name text,
      name_source text,
      names jsonb NOT NULL DEFAULT '{}',
      operator text,
      tags jsonb NOT NULL,
      lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
      lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
      website text,
      opening_hours text,
      phone text,
      address jsonb,
      source_url text NOT NULL,
      osm_version integer,
      osm_timestamp timestamptz,
      license text NOT NULL,
      attribution text NOT NULL,
      content_hash text NOT NULL,
      first_seen_run uuid NOT NULL REFERENCES ingestion_run (id),
      last_seen_run uuid NOT NULL REFERENCES ingestion_run (id),
      last_changed_run uuid NOT NULL REFERENCES ingestion_run (id),
      change_state text NOT NULL CHECK (change_state IN ('new', 'changed', 'unchanged', 'missing')),
      missing_since timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (city_id, osm_type, osm_id)
    )`.execute(db)
  await sql`CREATE INDEX helper_place_city_kind_idx ON helper_place (city_id, kind)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE helper_place, poi_ingestion_staging, ingestion_run_item, ingestion_run`.execute(db)
  await sql`ALTER TABLE cities DROP COLUMN boundary, DROP COLUMN boundary_source, DROP COLUMN boundary_fetched_at`.execute(
    db,
  )
}
