import { describe, expect, it } from 'vitest'
import { MediaRejected, sniffMedia } from '../../src/modules/catalog/media-sniff.js'
import { elfExecutable, jpeg, mp3, peExecutable, png, zipArchive } from './media-fixtures.js'

async function rejection(bytes: Buffer): Promise<string> {
  try {
    await sniffMedia(bytes)
  } catch (err) {
    if (err instanceof MediaRejected) return err.reason
    throw err
  }
  throw new Error('accepted')
}

describe('media sniffing', () => {
  it('reads PNG and JPEG with their pixel size from the bytes', async () => {
    expect(await sniffMedia(png(33, 17))).toEqual({
      kind: 'image',
      mime: 'image/png',
      width: 33,
      height: 17,
      duration_ms: null,
    })
    expect(await sniffMedia(jpeg(640, 480))).toMatchObject({ mime: 'image/jpeg', width: 640, height: 480 })
  })

  it('reads MP3 with its duration', async () => {
    const m = await sniffMedia(mp3(100))
    expect(m.kind).toBe('audio')
    expect(m.mime).toBe('audio/mpeg')
    expect(m.duration_ms).toBeGreaterThan(2500)
    expect(m.duration_ms).toBeLessThan(2700)
  })

  it('refuses a renamed executable whatever its name claims', async () => {
    expect(await rejection(elfExecutable())).toMatch(/не допускается|не распознан/)
    expect(await rejection(peExecutable())).toMatch(/не допускается|не распознан/)
  })

  it('refuses polyglots: an image with a ZIP appended, HTML inside, data after its end', async () => {
    expect(await rejection(Buffer.concat([jpeg(10, 10), zipArchive()]))).toMatch(/ZIP/)
    expect(await rejection(Buffer.concat([png(4, 4), zipArchive()]))).toMatch(/ZIP/)
    expect(await rejection(Buffer.concat([png(4, 4), Buffer.from('<script>alert(1)</script>')]))).toMatch(
      /скрипт/,
    )
    expect(await rejection(Buffer.concat([png(4, 4), Buffer.from('tail bytes of something else')]))).toMatch(
      /после своего конца/,
    )
    expect(await rejection(Buffer.concat([mp3(20), zipArchive()]))).toMatch(/ZIP/)
  })

  it('refuses other types, text and truncated files', async () => {
    const gif = Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.alloc(40)])
    expect(await rejection(gif)).toMatch(/image\/gif не допускается/)
    expect(await rejection(Buffer.from('просто текст, а не картинка'))).toMatch(/не распознан/)
    expect(await rejection(Buffer.from([0xff, 0xd8]))).toMatch(/слишком мал/)
    expect(await rejection(png(4, 4).subarray(0, 40))).toMatch(/повреждено|не читается/)
  })
})
