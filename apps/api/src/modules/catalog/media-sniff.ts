import { fileTypeFromBuffer } from 'file-type'
import { imageSize } from 'image-size'
import { parseBuffer } from 'music-metadata'

/**
 * What a medium is, decided from its bytes only (the name and the declared type of an upload are
 * never trusted): its type is sniffed, then the whole file is parsed as that type, and bytes that
 * also read as something else (a polyglot: a JPEG with a ZIP or an executable inside, an image whose
 * container says it ends before the file does) are refused.
 */

export const IMAGE_MIMES = ['image/jpeg', 'image/png', 'image/webp'] as const
export const AUDIO_MIMES = ['audio/mpeg', 'audio/ogg', 'audio/aac'] as const

export interface SniffedMedia {
  kind: 'image' | 'audio'
  mime: string
  width: number | null
  height: number | null
  duration_ms: number | null
}

export class MediaRejected extends Error {
  constructor(readonly reason: string) {
    super(reason)
    this.name = 'MediaRejected'
  }
}

/**
 * Markers of another format that readers find away from the file's start: text markers anywhere
 * (browsers sniff HTML and script inside any bytes), a ZIP end-of-directory record near the end (ZIP
 * readers look for it there, which is how JPEG+ZIP and MP3+JAR polyglots work) and a PDF header in
 * the first kilobyte (PDF readers accept it there). Short binary magics are not searched inside the
 * payload: compressed data contains any 4-byte sequence by chance.
 */
const TEXT_MARKERS = ['<script', '<?php', '<html', '<svg', '<!doctype'].map((m) => Buffer.from(m, 'latin1'))
const ZIP_EOCD = Buffer.from([0x50, 0x4b, 0x05, 0x06])
const PDF = Buffer.from('%PDF-', 'latin1')

function foreignContent(bytes: Buffer): string | null {
  const lower = Buffer.from(bytes.toString('latin1').toLowerCase(), 'latin1')
  if (TEXT_MARKERS.some((m) => lower.indexOf(m) >= 0)) return 'HTML, SVG или скрипт'
  if (bytes.subarray(Math.max(0, bytes.length - 65_557)).indexOf(ZIP_EOCD) >= 0) return 'ZIP-архив'
  if (bytes.subarray(0, 1024).indexOf(PDF) >= 0) return 'PDF-документ'
  return null
}

/** Where the image's own container says it ends; bytes after that are someone else's. */
function imageEnd(mime: string, bytes: Buffer): number | null {
  if (mime === 'image/png') {
    const iend = bytes.lastIndexOf(Buffer.from('IEND', 'latin1'))
    return iend < 0 ? null : iend + 8 // type + CRC
  }
  if (mime === 'image/jpeg') {
    let end = bytes.length
    while (end > 2 && bytes[end - 1] === 0) end-- // some encoders pad with zeros
    return bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9 ? bytes.length : null
  }
  if (mime === 'image/webp') return bytes.readUInt32LE(4) + 8
  return null
}

export async function sniffMedia(bytes: Buffer): Promise<SniffedMedia> {
  if (bytes.length < 12) throw new MediaRejected('файл слишком мал, чтобы быть изображением или аудио')
  const type = await fileTypeFromBuffer(bytes)
  if (!type) throw new MediaRejected('тип файла не распознан по содержимому')
  const mime = type.mime === 'audio/opus' ? 'audio/ogg' : type.mime
  const foreign = foreignContent(bytes)
  if ((IMAGE_MIMES as readonly string[]).includes(mime)) {
    if (foreign) throw new MediaRejected(`изображение содержит посторонние данные (${foreign})`)
    const end = imageEnd(mime, bytes)
    if (end === null || end !== bytes.length)
      throw new MediaRejected('изображение повреждено или содержит данные после своего конца')
    let size: { width?: number; height?: number }
    try {
      size = imageSize(bytes)
    } catch {
      throw new MediaRejected('изображение не читается')
    }
    if (!size.width || !size.height) throw new MediaRejected('у изображения нет размеров')
    return { kind: 'image', mime, width: size.width, height: size.height, duration_ms: null }
  }
  if ((AUDIO_MIMES as readonly string[]).includes(mime)) {
    if (foreign) throw new MediaRejected(`аудиофайл содержит посторонние данные (${foreign})`)
    let duration: number | undefined
    let codec: string | undefined
    try {
      const meta = await parseBuffer(bytes, { mimeType: mime, size: bytes.length }, { duration: true })
      duration = meta.format.duration
      codec = meta.format.codec
    } catch {
      throw new MediaRejected('аудиофайл не читается')
    }
    if (mime === 'audio/ogg' && codec && !/opus/i.test(codec))
      throw new MediaRejected(`в контейнере Ogg допускается только Opus, получено: ${codec}`)
    if (!duration || !Number.isFinite(duration) || duration <= 0)
      throw new MediaRejected('не удалось определить длительность аудио')
    return { kind: 'audio', mime, width: null, height: null, duration_ms: Math.round(duration * 1000) }
  }
  throw new MediaRejected(`тип ${type.mime} не допускается (разрешены JPEG, PNG, WebP, MP3, Ogg/Opus, AAC)`)
}
