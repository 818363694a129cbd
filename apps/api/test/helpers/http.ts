/** The parsed JSON of a response; tests read fields loosely and assert on them. */
export async function json(res: Response): Promise<any> {
  return res.json()
}

export function jsonRequest(
  body: unknown,
  headers: Record<string, string> = {},
  method = 'POST',
): RequestInit {
  return { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }
}
