/** One way of a multipolygon or boundary relation, as the node ids it runs through. */
export interface RingSegment {
  wayId: number
  nodeIds: readonly number[]
}

export interface AssembledRings {
  /** Closed node-id sequences, first id repeated last. */
  rings: number[][]
  /** Ways left in chains that never closed: a boundary with any of these is incomplete. */
  unclosedWayIds: number[]
}

/**
 * Joins ways end to end by shared end nodes (reversing where needed) into closed rings, as OSM
 * multipolygons and boundaries are drawn. Where rings touch at a node the grouping of ways into
 * rings is arbitrary, which even-odd containment does not mind: it depends only on the set of edges.
 */
export function assembleRings(segments: readonly RingSegment[]): AssembledRings {
  const usable = segments.filter((s) => s.nodeIds.length >= 2)
  const unclosedWayIds = segments.filter((s) => s.nodeIds.length < 2).map((s) => s.wayId)
  const used = new Uint8Array(usable.length)
  const byEndpoint = new Map<number, number[]>()
  usable.forEach((segment, index) => {
    for (const end of [segment.nodeIds[0]!, segment.nodeIds.at(-1)!]) {
      const list = byEndpoint.get(end)
      if (list) list.push(index)
      else byEndpoint.set(end, [index])
    }
  })

  const takeSegmentAt = (node: number): RingSegment | undefined => {
    for (const index of byEndpoint.get(node) ?? []) {
      if (used[index]) continue
      used[index] = 1
      const segment = usable[index]!
      return segment.nodeIds[0] === node ? segment : { ...segment, nodeIds: segment.nodeIds.toReversed() }
    }
    return undefined
  }

  const rings: number[][] = []
  for (let start = 0; start < usable.length; start++) {
    if (used[start]) continue
    used[start] = 1
    const chain = [...usable[start]!.nodeIds]
    const chainWayIds = [usable[start]!.wayId]
    let turnedAround = false
    while (chain[0] !== chain.at(-1)) {
      const next = takeSegmentAt(chain.at(-1)!)
      if (next) {
        for (let i = 1; i < next.nodeIds.length; i++) chain.push(next.nodeIds[i]!)
        chainWayIds.push(next.wayId)
        continue
      }
      // The first way may sit mid-chain: grow the other end before calling the chain open.
      if (turnedAround) break
      turnedAround = true
      chain.reverse()
    }
    if (chain[0] !== chain.at(-1)) unclosedWayIds.push(...chainWayIds)
    // A closed chain of fewer than 3 distinct nodes encloses nothing.
    else if (chain.length >= 4) rings.push(chain)
  }
  return { rings, unclosedWayIds }
}
