import { type Kysely, sql } from 'kysely'

/**
 * Publishing: the public `poi` table (published POIs only, fed from staging through the publish
 * gates), gate results and editor review on staging, and the planar `geo` column that "Nearby" scans
 * with KNN (ADR 007).
 *
 * `geo` is `point(lon · cos(ref_lat), lat)` with ONE reference latitude per city. A generated column
 * cannot read another table, so a trigger fills `geo` from the city's `ref_lat` on every insert and on
 * every change of position or city: ingestion and publishing need not know the projection, and a row
 * can never carry a point that disagrees with its lat/lon.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE cities ADD COLUMN ref_lat double precision`.execute(db)
  await sql`UPDATE cities SET ref_lat = center_lat`.execute(db)
  await sql`
    ALTER TABLE cities ALTER COLUMN ref_lat SET NOT NULL,
      ADD CONSTRAINT cities_ref_lat_check CHECK (ref_lat BETWEEN -85 AND 85)`.execute(db)
  // A city added later gets its centre as reference latitude unless it names one.
  await sql`
    CREATE FUNCTION cities_default_ref_lat() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.ref_lat := COALESCE(NEW.ref_lat, NEW.center_lat);
      RETURN NEW;
    END $$`.execute(db)
  await sql`
    CREATE TRIGGER cities_default_ref_lat BEFORE INSERT ON cities
      FOR EACH ROW EXECUTE FUNCTION cities_default_ref_lat()`.execute(db)
  // Every stored planar point was made with the old value: changing it would silently skew "Nearby".
  await sql`
    CREATE FUNCTION cities_ref_lat_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.ref_lat IS DISTINCT FROM OLD.ref_lat THEN
        RAISE EXCEPTION 'cities.ref_lat is fixed once set (planar points depend on it)';
      END IF;
      RETURN NEW;
    END $$`.execute(db)
  await sql`
    CREATE TRIGGER cities_ref_lat_fixed BEFORE UPDATE OF ref_lat ON cities
      FOR EACH ROW EXECUTE FUNCTION cities_ref_lat_fixed()`.execute(db)

  await sql`
    CREATE FUNCTION planar_geo() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE r double precision;
    BEGIN
      SELECT ref_lat INTO STRICT r FROM cities WHERE id = NEW.city_id;
      NEW.geo := point(NEW.lon * cos(radians(r)), NEW.lat);
      RETURN NEW;
    END $$`.execute(db)

  await sql`ALTER TABLE helper_place ADD COLUMN geo point`.execute(db)
  await sql`
    UPDATE helper_place h SET geo = point(h.lon * cos(radians(c.ref_lat)), h.lat)
    FROM cities c WHERE c.id = h.city_id`.execute(db)
  await sql`ALTER TABLE helper_place ALTER COLUMN geo SET NOT NULL`.execute(db)
  await sql`
    CREATE TRIGGER helper_place_geo BEFORE INSERT OR UPDATE OF lat, lon, city_id ON helper_place
      FOR EACH ROW EXECUTE FUNCTION planar_geo()`.execute(db)
  // GiST, covering what "Nearby" reads, so its KNN scan never visits the table (see ADR 007 for the
  // measurements against SP-GiST on clustered real POI positions).
  await sql`
    CREATE INDEX helper_place_geo_idx ON helper_place USING gist (geo) INCLUDE (id, city_id, kind, name, lat, lon)
    WHERE change_state <> 'missing'`.execute(db)

  await sql`
    ALTER TABLE poi_ingestion_staging
      ADD COLUMN gate_results jsonb,
      ADD COLUMN gates_passed boolean,
      ADD COLUMN gates_evaluated_at timestamptz,
      ADD COLUMN review_state text CHECK (review_state IN ('rejected')),
      ADD COLUMN reviewed_by text,
      ADD COLUMN review_reason text,
      ADD COLUMN reviewed_at timestamptz,
      ADD CONSTRAINT poi_staging_review_recorded CHECK (
        review_state IS NULL OR (reviewed_by IS NOT NULL AND review_reason IS NOT NULL AND reviewed_at IS NOT NULL))`.execute(
    db,
  )
  await sql`CREATE INDEX poi_staging_city_id_idx ON poi_ingestion_staging (city_id, id)`.execute(db)

  await sql`
    CREATE TABLE poi (
      id bigserial PRIMARY KEY,
      staging_id bigint NOT NULL UNIQUE REFERENCES poi_ingestion_staging (id),
      city_id integer NOT NULL REFERENCES cities (id),
      osm_type text NOT NULL CHECK (osm_type IN ('node', 'way', 'relation')),
      osm_id bigint NOT NULL,
      category text NOT NULL,
      name_ru text NOT NULL CHECK (btrim(name_ru) <> ''),
      search_name text GENERATED ALWAYS AS (replace(lower(name_ru), 'ё', 'е')) STORED,
      lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
      lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
      geo point NOT NULL,
      address jsonb,
      opening_hours text,
      website text,
      phone text,
      wikidata text,
      wikipedia jsonb,
      heritage jsonb,
      sources jsonb NOT NULL CHECK (jsonb_typeof(sources) = 'array' AND jsonb_array_length(sources) > 0),
      license text NOT NULL CHECK (btrim(license) <> ''),
      attribution text NOT NULL CHECK (btrim(attribution) <> ''),
      staging_hash text NOT NULL,
      published boolean NOT NULL DEFAULT true,
      unpublished_reason text,
      unpublished_at timestamptz,
      published_at timestamptz NOT NULL DEFAULT now(),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (city_id, osm_type, osm_id),
      CHECK (published = (unpublished_at IS NULL)),
      CHECK (published OR unpublished_reason IS NOT NULL)
    )`.execute(db)
  await sql`
    CREATE TRIGGER poi_geo BEFORE INSERT OR UPDATE OF lat, lon, city_id ON poi
      FOR EACH ROW EXECUTE FUNCTION planar_geo()`.execute(db)
  // Partial: the apps only ever read published rows, and "Nearby" must not step over unpublished ones.
  await sql`
    CREATE INDEX poi_geo_idx ON poi USING gist (geo) INCLUDE (id, city_id, category, name_ru, lat, lon)
    WHERE published`.execute(db)
  await sql`CREATE INDEX poi_search_name_idx ON poi USING gin (search_name gin_trgm_ops) WHERE published`.execute(
    db,
  )
  await sql`CREATE INDEX poi_city_list_idx ON poi (city_id, id) WHERE published`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE poi`.execute(db)
  await sql`DROP INDEX poi_staging_city_id_idx`.execute(db)
  await sql`
    ALTER TABLE poi_ingestion_staging
      DROP CONSTRAINT poi_staging_review_recorded,
      DROP COLUMN gate_results, DROP COLUMN gates_passed, DROP COLUMN gates_evaluated_at,
      DROP COLUMN review_state, DROP COLUMN reviewed_by, DROP COLUMN review_reason, DROP COLUMN reviewed_at`.execute(
    db,
  )
  await sql`DROP TRIGGER helper_place_geo ON helper_place`.execute(db)
  await sql`ALTER TABLE helper_place DROP COLUMN geo`.execute(db)
  await sql`DROP FUNCTION planar_geo()`.execute(db)
  await sql`DROP TRIGGER cities_ref_lat_fixed ON cities`.execute(db)
  await sql`DROP TRIGGER cities_default_ref_lat ON cities`.execute(db)
  await sql`DROP FUNCTION cities_ref_lat_fixed(), cities_default_ref_lat()`.execute(db)
  await sql`ALTER TABLE cities DROP COLUMN ref_lat`.execute(db)
}
