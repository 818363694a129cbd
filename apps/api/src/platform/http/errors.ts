/**
 * One table of error codes: each code's HTTP status and title. The problem+json answers and the
 * OpenAPI error responses are both derived from it, so they cannot drift apart. Titles are Russian:
 * app users may read them.
 */
export const ERRORS = {
  VALIDATION_FAILED: { status: 400, title: 'Некорректный запрос' },
  MALFORMED_BODY: { status: 400, title: 'Тело запроса не является корректным JSON' },
  MALFORMED_REQUEST: { status: 400, title: 'Запрос не является корректным HTTP' },
  APP_KEY_REQUIRED: { status: 401, title: 'Требуется ключ приложения (X-App-Key)' },
  APP_KEY_INVALID: { status: 401, title: 'Неизвестный ключ приложения' },
  ADMIN_TOKEN_REQUIRED: { status: 401, title: 'Требуется токен администратора (X-Admin-Token)' },
  SIGNATURE_INVALID: { status: 401, title: 'Подпись запроса недействительна' },
  ACCOUNT_TOKEN_REQUIRED: { status: 401, title: 'Требуется токен доступа (Authorization: Bearer)' },
  ACCOUNT_TOKEN_INVALID: { status: 401, title: 'Токен доступа недействителен' },
  ACCOUNT_TOKEN_EXPIRED: { status: 401, title: 'Срок действия токена доступа истёк' },
  ACCOUNT_INACTIVE: { status: 401, title: 'Аккаунт удалён' },
  REFRESH_TOKEN_INVALID: { status: 401, title: 'Токен обновления недействителен' },
  ACCOUNT_TENANT_MISMATCH: { status: 403, title: 'Токен выдан другому приложению' },
  ADMIN_TOKEN_INVALID: { status: 403, title: 'Неверный токен администратора' },
  ADMIN_DISABLED: { status: 403, title: 'Администрирование отключено: токен не настроен' },
  NOT_FOUND: { status: 404, title: 'Не найдено' },
  CITY_NOT_FOUND: { status: 404, title: 'Город не найден' },
  JOB_NOT_FOUND: { status: 404, title: 'Задача не найдена' },
  POI_NOT_FOUND: { status: 404, title: 'Объект не найден' },
  STAGING_NOT_FOUND: { status: 404, title: 'Запись промежуточного хранилища не найдена' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Метод не поддерживается' },
  JOB_STATE_CONFLICT: { status: 409, title: 'Задача в состоянии, не допускающем операцию' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Тело запроса слишком велико' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Ожидается application/json' },
  TOUR_NOT_FOUND: { status: 404, title: 'Тур не найден' },
  CATALOG_ITEM_NOT_FOUND: { status: 404, title: 'Позиция каталога не найдена' },
  MEDIA_NOT_FOUND: { status: 404, title: 'Медиафайл не найден' },
  CONTENT_NOT_FOUND: { status: 404, title: 'Нет файлов контента для города' },
  MEDIA_LOCKED: { status: 403, title: 'Медиафайл доступен только после покупки тура' },
  MEDIA_REJECTED: { status: 415, title: 'Файл не является допустимым изображением или аудио' },
  RANGE_NOT_SATISFIABLE: { status: 416, title: 'Запрошенный диапазон недоступен' },
  PACK_NOT_FOUND: { status: 404, title: 'Офлайн-пакет города не найден' },
  PACK_VERSION_UNKNOWN: { status: 404, title: 'Такой версии пакета нет' },
  PACK_VERSION_GONE: { status: 410, title: 'Версия пакета больше не хранится' },
  BLOB_NOT_FOUND: { status: 404, title: 'Файл не найден' },
  BLOB_LOCKED: { status: 403, title: 'Файл доступен только после покупки тура' },
  PURCHASE_NOT_OFFERED: { status: 422, title: 'Эта позиция не продаётся в этом магазине' },
  PURCHASE_PROOF_INVALID: { status: 422, title: 'Магазин не подтверждает эту покупку' },
  PURCHASE_NOT_BOUND: { status: 422, title: 'Покупка не связана с намерением этого аккаунта' },
  PURCHASE_REFUSED: { status: 422, title: 'Покупка не оплачена или возвращена' },
  STORE_NOT_CONFIGURED: { status: 422, title: 'Магазин не подключён для этого приложения' },
  ALREADY_OWNED: { status: 409, title: 'Эта позиция уже куплена' },
  FOUR_EYES_REQUIRED: {
    status: 409,
    title: 'Нужен второй оператор: автор последней правки не публикует её сам',
  },
  PURCHASE_ALREADY_CLAIMED: { status: 409, title: 'Покупка принадлежит другому аккаунту' },
  STORE_UNAVAILABLE: { status: 503, title: 'Магазин временно недоступен' },
  PUBLISH_GATES_FAILED: { status: 422, title: 'Публикация невозможна: не пройдены проверки' },
  HEADERS_TOO_LARGE: { status: 431, title: 'Заголовки запроса слишком велики' },
  IDEMPOTENCY_CONFLICT: { status: 422, title: 'Задача с этим ключом уже существует с другими параметрами' },
  TOO_MANY_REQUESTS: { status: 429, title: 'Слишком много попыток, повторите позже' },
  INTERNAL: { status: 500, title: 'Внутренняя ошибка сервера' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Сервис временно недоступен' },
} as const satisfies Record<string, { status: number; title: string }>

export type ErrorCode = keyof typeof ERRORS
export type ErrorStatus = (typeof ERRORS)[ErrorCode]['status']

export interface FieldError {
  path: string
  message: string
  /** Publish-gate failures only: which gate failed, and at which stop of a tour. */
  gate?: string
  stop?: number
}

export class AppError extends Error {
  readonly status: number
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail ?? ERRORS[code].title)
    this.name = 'AppError'
    this.status = ERRORS[code].status
  }
}

export function problemType(code: ErrorCode): string {
  return `urn:gorod:problem:${code.toLowerCase().replaceAll('_', '-')}`
}
