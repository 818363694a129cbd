import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'

/** Plain HTML and CSS: readable on a phone, works without JavaScript. */
function layout(title: string, body: HtmlEscapedString | Promise<HtmlEscapedString>) {
  return html`<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<style>${raw(`body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:0 auto;padding:1rem;color:#1b1b1b}
h1{font-size:1.4rem}label{display:block;margin:.75rem 0 .25rem}input[type=text]{font:inherit;width:100%;
box-sizing:border-box;padding:.6rem;letter-spacing:.1em;text-transform:uppercase}.check{display:flex;gap:.5rem;
align-items:flex-start}button{font:inherit;margin-top:1rem;padding:.7rem 1.2rem;background:#b3261e;color:#fff;
border:0;border-radius:.4rem}.note{background:#f3f3f3;padding:.75rem;border-radius:.4rem}`)}</style>
</head>
<body>
${body}
</body>
</html>`
}

export function deletionForm(args: { brand: string; slug: string; csrf: string; error?: string }) {
  return layout(
    `Удаление аккаунта — ${args.brand}`,
    html`<h1>Удаление аккаунта в приложении «${args.brand}»</h1>
${args.error ? html`<p class="note" role="alert">${args.error}</p>` : ''}
<p>Код аккаунта показан в приложении: «Настройки» → «Аккаунт». Удалить аккаунт можно и в самом
приложении, там же.</p>
<h2>Что будет удалено</h2>
<ul>
<li>код аккаунта и сам аккаунт — войти в него больше будет нельзя;</li>
<li>все токены входа на всех устройствах — они перестанут действовать сразу;</li>
<li>связь ваших покупок с аккаунтом.</li>
</ul>
<h2>Что сохранится и почему</h2>
<p>Записи о покупках (магазин, номер транзакции, товар, дата) хранятся, потому что этого требует
закон об учёте платежей; после удаления они ни с вами, ни с аккаунтом не связаны. Сохраняется и запись
о том, что удаление было выполнено, — без каких-либо данных о вас.</p>
<form method="post" action="/account-deletion">
<input type="hidden" name="tenant" value="${args.slug}">
<input type="hidden" name="csrf" value="${args.csrf}">
<label for="code">Код аккаунта</label>
<input type="text" id="code" name="code" required maxlength="20" autocomplete="off" placeholder="XXXX-XXXX-XXXX">
<p class="check"><input type="checkbox" id="confirm" name="confirm" value="yes" required>
<label for="confirm">Я понимаю, что аккаунт будет удалён без возможности восстановления</label></p>
<button type="submit">Удалить аккаунт</button>
</form>`,
  )
}

export function deletionAnswer(brand: string) {
  return layout(
    `Запрос принят — ${brand}`,
    html`<h1>Запрос на удаление принят</h1>
<p>Если код принадлежит аккаунту приложения «${brand}», аккаунт удалён: токены входа уже не
действуют, а оставшиеся данные будут стёрты в ближайшие минуты.</p>
<p>Если код был введён с ошибкой, аккаунт не изменился — проверьте код в приложении и повторите.</p>`,
  )
}

export function deletionMessage(title: string, text: string) {
  return layout(title, html`<h1>${title}</h1><p>${text}</p>`)
}
