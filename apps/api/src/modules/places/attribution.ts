/** Every answer that carries OpenStreetMap-derived data names its licence and attribution (ODbL 4.3). */
export const OSM_ATTRIBUTION = '© OpenStreetMap contributors'
export const OSM_LICENSE = 'ODbL-1.0'

export const attributionFields = { attribution: OSM_ATTRIBUTION, license: OSM_LICENSE } as const
