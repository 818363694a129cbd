import { type Kysely, sql } from 'kysely'

/**
 * Catalog and tours (issue 12): the guide itself. `media` is content-addressed (sha256 of the bytes,
 * type sniffed from them). A `tour` points at its editable draft version and at its public version;
 * a `tour_version` that has been published is immutable (a trigger refuses to change or delete it or
 * its stops), so editing a published tour always makes a new draft, and publishing moves
 * `published_version_id` in one UPDATE. `catalog_item` is what the stores sell (a tour or a bundle),
 * offered per tenant with the product id of each store; no price, currency or balance exists here.
 * `content_audit` records every change with who and when.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE media (
      sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      kind text NOT NULL CHECK (kind IN ('image', 'audio')),
      mime text NOT NULL,
      bytes bigint NOT NULL CHECK (bytes > 0),
      width integer,
      height integer,
      duration_ms integer,
      author text,
      license text,
      source_url text,
      storage_key text NOT NULL,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (kind <> 'image' OR (width > 0 AND height > 0))
    )`.execute(db)

  await sql`
    CREATE TABLE tour (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      city_id integer NOT NULL REFERENCES cities (id),
      slug text NOT NULL CHECK (slug ~ '^[a-z0-9-]{2,80}$'),
      status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'unpublished')),
      draft_version_id bigint,
      published_version_id bigint,
      unpublished_reason text,
      review_reason text,
      review_flagged_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (city_id, slug),
      CHECK ((status = 'published') = (published_version_id IS NOT NULL)),
      CHECK (status <> 'unpublished' OR unpublished_reason IS NOT NULL)
    )`.execute(db)
  await sql`CREATE INDEX tour_city_status_idx ON tour (city_id, status, id)`.execute(db)

  await sql`
    CREATE TABLE tour_version (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      tour_id bigint NOT NULL REFERENCES tour (id),
      number integer NOT NULL CHECK (number > 0),
      title_ru text NOT NULL,
      summary_ru text NOT NULL,
      description_ru text NOT NULL,
      cover_sha256 text REFERENCES media (sha256),
      duration_min integer NOT NULL CHECK (duration_min BETWEEN 1 AND 1440),
      length_m integer NOT NULL CHECK (length_m >= 0),
      content_hash text NOT NULL,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      published_at timestamptz,
      published_by text,
      UNIQUE (tour_id, number)
    )`.execute(db)
  await sql`
    ALTER TABLE tour
      ADD FOREIGN KEY (draft_version_id) REFERENCES tour_version (id),
      ADD FOREIGN KEY (published_version_id) REFERENCES tour_version (id)`.execute(db)

  await sql`
    CREATE TABLE tour_stop (
      version_id bigint NOT NULL REFERENCES tour_version (id) ON DELETE CASCADE,
      position integer NOT NULL CHECK (position > 0),
      poi_id bigint REFERENCES poi (id),
      lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
      lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
      title_ru text NOT NULL,
      narration_ru text NOT NULL,
      trigger_radius_m integer NOT NULL,
      image_sha256 text REFERENCES media (sha256),
      audio_sha256 text REFERENCES media (sha256),
      PRIMARY KEY (version_id, position)
    )`.execute(db)
  await sql`CREATE INDEX tour_stop_poi_idx ON tour_stop (poi_id) WHERE poi_id IS NOT NULL`.execute(db)

  // A published version is the public record: what the apps were shown must never change under them.
  await sql`
    CREATE FUNCTION tour_version_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.published_at IS NOT NULL THEN
        RAISE EXCEPTION 'tour_version % is published and immutable', OLD.id;
      END IF;
      RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END $$`.execute(db)
  await sql`
    CREATE TRIGGER tour_version_immutable BEFORE UPDATE OR DELETE ON tour_version
      FOR EACH ROW WHEN (OLD.published_at IS NOT NULL) EXECUTE FUNCTION tour_version_immutable()`.execute(db)
  await sql`
    CREATE FUNCTION tour_stop_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE v bigint := CASE WHEN TG_OP = 'INSERT' THEN NEW.version_id ELSE OLD.version_id END;
    BEGIN
      IF EXISTS (SELECT 1 FROM tour_version WHERE id = v AND published_at IS NOT NULL) THEN
        RAISE EXCEPTION 'stops of published tour_version % are immutable', v;
      END IF;
      RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END $$`.execute(db)
  await sql`
    CREATE TRIGGER tour_stop_immutable BEFORE INSERT OR UPDATE OR DELETE ON tour_stop
      FOR EACH ROW EXECUTE FUNCTION tour_stop_immutable()`.execute(db)

  // A POI that leaves publication takes nothing down silently: every tour whose public version or
  // draft stops at it is flagged for review with the reason, and the admin listing shows it.
  await sql`
    CREATE FUNCTION tour_flag_unpublished_poi() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE tour t SET
        review_reason = format('объект «%s» (id %s) снят с публикации: %s', NEW.name_ru, NEW.id,
                               COALESCE(NEW.unpublished_reason, 'причина не указана')),
        review_flagged_at = now(), updated_at = now()
      WHERE EXISTS (
        SELECT 1 FROM tour_stop s
        WHERE s.poi_id = NEW.id AND s.version_id IN (t.published_version_id, t.draft_version_id));
      RETURN NEW;
    END $$`.execute(db)
  await sql`
    CREATE TRIGGER poi_unpublished_flags_tours AFTER UPDATE OF published ON poi
      FOR EACH ROW WHEN (OLD.published AND NOT NEW.published) EXECUTE FUNCTION tour_flag_unpublished_poi()`.execute(
    db,
  )

  await sql`
    CREATE TABLE catalog_item (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      city_id integer NOT NULL REFERENCES cities (id),
      slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{2,80}$'),
      kind text NOT NULL CHECK (kind IN ('tour', 'bundle')),
      title_ru text NOT NULL,
      summary_ru text NOT NULL,
      cover_sha256 text REFERENCES media (sha256),
      paid boolean NOT NULL,
      status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'unpublished')),
      content_hash text NOT NULL,
      unpublished_reason text,
      published_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (status <> 'unpublished' OR unpublished_reason IS NOT NULL)
    )`.execute(db)
  await sql`CREATE INDEX catalog_item_city_status_idx ON catalog_item (city_id, status, id)`.execute(db)
  await sql`
    CREATE TABLE catalog_item_tour (
      item_id bigint NOT NULL REFERENCES catalog_item (id) ON DELETE CASCADE,
      tour_id bigint NOT NULL REFERENCES tour (id),
      position integer NOT NULL CHECK (position > 0),
      PRIMARY KEY (item_id, tour_id),
      UNIQUE (item_id, position)
    )`.execute(db)
  await sql`CREATE INDEX catalog_item_tour_tour_idx ON catalog_item_tour (tour_id)`.execute(db)
  await sql`
    CREATE TABLE catalog_offer (
      item_id bigint NOT NULL REFERENCES catalog_item (id) ON DELETE CASCADE,
      tenant_id integer NOT NULL REFERENCES tenants (id),
      apple_product_id text CHECK (apple_product_id ~ '^[A-Za-z0-9._-]{1,100}$'),
      rustore_product_id text CHECK (rustore_product_id ~ '^[A-Za-z0-9._-]{1,100}$'),
      PRIMARY KEY (item_id, tenant_id)
    )`.execute(db)
  await sql`CREATE INDEX catalog_offer_tenant_idx ON catalog_offer (tenant_id, item_id)`.execute(db)

  await sql`
    CREATE TABLE content_audit (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      actor text NOT NULL CHECK (btrim(actor) <> ''),
      entity text NOT NULL CHECK (entity IN ('tour', 'catalog_item', 'media')),
      entity_id text NOT NULL,
      action text NOT NULL,
      detail jsonb
    )`.execute(db)
  await sql`CREATE INDEX content_audit_entity_idx ON content_audit (entity, entity_id, id)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE content_audit, catalog_offer, catalog_item_tour, catalog_item`.execute(db)
  await sql`DROP TRIGGER poi_unpublished_flags_tours ON poi`.execute(db)
  await sql`DROP FUNCTION tour_flag_unpublished_poi()`.execute(db)
  await sql`ALTER TABLE tour DROP COLUMN draft_version_id, DROP COLUMN published_version_id`.execute(db)
  await sql`DROP TABLE tour_stop, tour_version, tour, media`.execute(db)
  await sql`DROP FUNCTION tour_stop_immutable(), tour_version_immutable()`.execute(db)
}
