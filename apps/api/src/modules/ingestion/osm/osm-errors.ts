/**
 * The source is not a well-formed OSM file or response. Permanent: retrying reads the same bytes,
 * so an ingestion job fails on it instead of retrying.
 */
export class OsmFormatError extends Error {
  readonly code = 'OSM_FORMAT'
  override readonly name = 'OsmFormatError'
}

/**
 * Overpass answered 200 but added a `remark` (timeout, out of memory, ...): the elements before it
 * are a partial result and must not be taken for the city's data.
 */
export class OverpassRemarkError extends Error {
  readonly code = 'OVERPASS_REMARK'
  override readonly name = 'OverpassRemarkError'
  constructor(readonly remark: string) {
    super(`Overpass reported: ${remark}`)
  }
}
