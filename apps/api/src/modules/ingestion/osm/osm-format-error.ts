/**
 * The input is not a well-formed OSM file of a kind we ingest. Permanent: a retry reads the same
 * bytes, so a job fails on it with this message instead of retrying.
 */
export class OsmFormatError extends Error {
  override name = 'OsmFormatError'
}
