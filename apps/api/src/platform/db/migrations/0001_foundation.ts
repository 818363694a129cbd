import { type Kysely, sql } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS cube`.execute(db)
  await sql`CREATE EXTENSION IF NOT EXISTS earthdistance`.execute(db)
  await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db)

  await sql`
    CREATE TABLE tenants (
      id serial PRIMARY KEY,
      slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{2,40}$'),
      name text NOT NULL,
      app_key text NOT NULL UNIQUE CHECK (length(app_key) >= 8),
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db)

  await sql`
    CREATE TABLE cities (
      id serial PRIMARY KEY,
      slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{2,60}$'),
      name_ru text NOT NULL,
      osm_relation_id bigint NOT NULL CHECK (osm_relation_id > 0),
      bbox_min_lon double precision NOT NULL,
      bbox_min_lat double precision NOT NULL,
      bbox_max_lon double precision NOT NULL,
      bbox_max_lat double precision NOT NULL,
      center_lat double precision NOT NULL CHECK (center_lat BETWEEN -90 AND 90),
      center_lon double precision NOT NULL CHECK (center_lon BETWEEN -180 AND 180),
      timezone text NOT NULL,
      active boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (bbox_min_lon < bbox_max_lon AND bbox_min_lat < bbox_max_lat)
    )`.execute(db)

  await sql`
    CREATE TABLE tenant_cities (
      tenant_id integer NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      city_id integer NOT NULL REFERENCES cities (id) ON DELETE CASCADE,
      PRIMARY KEY (tenant_id, city_id)
    )`.execute(db)
  await sql`CREATE INDEX tenant_cities_city_idx ON tenant_cities (city_id)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE tenant_cities, cities, tenants`.execute(db)
}
