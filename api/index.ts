import { createServerlessHandler } from '../apps/api/src/serverless.js'

/**
 * Vercel entry: the same Hono app as `npm start`, built once per function instance. Vercel sends
 * every path here (see vercel.json rewrites).
 */
const handler = createServerlessHandler()

export default handler
export const GET = handler
export const POST = handler
export const PUT = handler
export const PATCH = handler
export const DELETE = handler
export const OPTIONS = handler
