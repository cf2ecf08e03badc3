import { describe, expect, it } from 'vitest'
import { CookieJar } from '../../scrapers/cookie-jar.js'

describe('CookieJar', () => {
  it('sends back what a host set, to that host only; honours Domain and expiry', () => {
    const jar = new CookieJar()
    jar.store('http://www.centre.test/login/getSession', ['JSESSIONID=abc; Path=/; HttpOnly', 'lang=zh; Domain=.centre.test', 'evil=1; Domain=other.test'])
    expect(jar.header('http://www.centre.test/tbt/find')).toBe('JSESSIONID=abc; lang=zh')
    expect(jar.header('http://api.centre.test/x')).toBe('lang=zh')
    expect(jar.header('http://other.test/')).toBeUndefined()
    jar.store('http://www.centre.test/logout', ['JSESSIONID=; Max-Age=0', 'lang=en; Domain=centre.test'])
    expect(jar.header('http://www.centre.test/')).toBe('lang=en')
    jar.store('http://www.centre.test/', ['lang=x; Domain=centre.test; Expires=Thu, 01 Jan 1970 00:00:00 GMT'])
    expect(jar.header('http://www.centre.test/')).toBeUndefined()
  })
})
