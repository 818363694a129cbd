import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto'
import canonicalize from 'canonicalize'
import { type Kysely, sql } from 'kysely'

/**
 * Offline city packs (issue 14, ADR 021). `city_pack` is one built version of a city's offline data
 * (monotonic `version` per city, built after a publish when the data changed); `city_pack_file` its
 * files by role (content-addressed blobs); `city_pack_record` the hash of every POI and helper in it,
 * so a changeset between two kept versions is a diff of two indexed sets. `pack_blob` says who may
 * fetch a blob from `/v1/blobs/sha256/…`: anyone (`public`), one tenant (`tenant:<id>`: its catalog)
 * or whoever may open a tour (`tour:<id>`). `pack_signing_key` holds the Ed25519 keys that sign the
 * manifests when the deployment configures none; the first is generated here, so no read ever has
 * to write one.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE pack_signing_key (
      kid text PRIMARY KEY,
      private_pkcs8 text NOT NULL,
      public_x text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db)
  const { privateKey } = generateKeyPairSync('ed25519')
  const { x } = createPublicKey(privateKey).export({ format: 'jwk' }) as { x: string }
  // The RFC 7638 thumbprint, as the signer computes it.
  const kid = createHash('sha256')
    .update(canonicalize({ crv: 'Ed25519', kty: 'OKP', x })!)
    .digest('base64url')
  await sql`
    INSERT INTO pack_signing_key (kid, private_pkcs8, public_x)
    VALUES (${kid}, ${privateKey.export({ type: 'pkcs8', format: 'pem' }) as string}, ${x})`.execute(db)
  await sql`
    CREATE TABLE city_pack (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      city_id integer NOT NULL REFERENCES cities (id),
      version integer NOT NULL CHECK (version > 0),
      data_hash text NOT NULL,
      poi_count integer NOT NULL,
      helper_count integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (city_id, version)
    )`.execute(db)
  await sql`
    CREATE TABLE city_pack_file (
      pack_id bigint NOT NULL REFERENCES city_pack (id) ON DELETE CASCADE,
      role text NOT NULL CHECK (role IN ('pois', 'helpers', 'poi_tiles', 'basemap')),
      sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      bytes bigint NOT NULL CHECK (bytes >= 0),
      media_type text NOT NULL,
      PRIMARY KEY (pack_id, role)
    )`.execute(db)
  await sql`CREATE INDEX city_pack_file_sha ON city_pack_file (sha256)`.execute(db)
  await sql`
    CREATE TABLE city_pack_record (
      pack_id bigint NOT NULL REFERENCES city_pack (id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('poi', 'helper')),
      record_id bigint NOT NULL,
      hash text NOT NULL,
      PRIMARY KEY (pack_id, kind, record_id)
    )`.execute(db)
  await sql`
    CREATE TABLE pack_blob (
      sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      scope text NOT NULL CHECK (scope = 'public' OR scope ~ '^(tenant|tour):[0-9]+$'),
      store text NOT NULL CHECK (store IN ('blobs', 'media')),
      media_type text NOT NULL,
      bytes bigint NOT NULL CHECK (bytes >= 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (sha256, scope)
    )`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE pack_blob, city_pack_record, city_pack_file, city_pack, pack_signing_key`.execute(db)
}
