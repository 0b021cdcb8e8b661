package pipeline

import (
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// CountryOf returns the ISO 3166-1 alpha-2 country (or territory) of an
// international phone number, as Google's libphonenumber metadata
// (github.com/nyaruka/phonenumbers) places it, or "" when it cannot be
// told. number is E.164 with or without the "+" ("+14165550123",
// "5511987654321", as WhatsApp's wa_id writes it); spaces, dashes, dots
// and parentheses are ignored; anything else (a hashed recipient "h:...")
// gives "".
//
// A calling code used by one country gives that country. A calling code
// shared by several (+1: US, Canada and the Caribbean; +44: the UK,
// Jersey, Guernsey, the Isle of Man; +7: Russia, Kazakhstan, ...) is
// resolved by the number itself: its area code or range must be a valid
// number of one of them, or match the leading digits of one of the
// smaller ones (Jersey, Kazakhstan, ...); a number that does neither
// belongs to the code's main country (GB, RU, ...), except in the North
// American plan, where "+1" alone does not tell the US from Canada: there a
// number valid in none of its countries (+1 212 055 0100, an exchange
// starting with 0) takes the country of its area code (212: US), and gives
// "" when the area code has no valid number at all (555). Non-geographic codes (+800, +882, ...) and
// unknown codes give "".
//
// Results for shared calling codes are cached (the parse is the slow
// part); CountryOf is safe for concurrent use.
func CountryOf(number string) string {
	var buf [24]byte
	digits := buf[:0]
	for i := 0; i < len(number); i++ {
		c := number[i]
		switch {
		case c >= '0' && c <= '9':
			if len(digits) == cap(digits) {
				return "" // longer than any phone number
			}
			digits = append(digits, c)
		case c == '+' || c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "" // not a number: a hashed recipient ("h:..."), a name
		}
	}
	// E.164: at most 15 digits; a calling code of 1-3 digits and at least
	// two national digits.
	if len(digits) < 4 || len(digits) > 17 {
		return ""
	}
	switch regions := callingCodeRegions(digits); {
	case len(regions) == 0:
		return ""
	case len(regions) == 1:
		if regions[0] == worldRegion {
			return "" // non-geographic: international freephone, satellite, ...
		}
		return regions[0]
	}
	return sharedCodeCountry(digits)
}

// nanpCode is the calling code of the North American Numbering Plan.
const nanpCode = 1

// worldRegion is libphonenumber's region of non-geographic calling codes.
const worldRegion = "001"

// parseE164 builds the libphonenumber form of an international number
// given as digits. Parsing text is slow (most of CountryOf's time on a new
// number) and not needed for digits: the calling code and the national
// number are set directly. A national number with a leading zero (Italy
// and the Vatican share +39 and keep it) goes through the full parse,
// which knows how to keep it.
func parseE164(digits []byte) (*phonenumbers.PhoneNumber, error) {
	code := 0
	for l := 0; l < 3 && l < len(digits)-2; l++ {
		code = code*10 + int(digits[l]-'0')
		if len(phonenumbers.GetRegionCodesForCountryCode(code)) == 0 {
			continue
		}
		national := digits[l+1:]
		if national[0] == '0' {
			break
		}
		var n uint64
		for _, d := range national {
			n = n*10 + uint64(d-'0')
		}
		cc := int32(code)
		return &phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &n}, nil
	}
	return phonenumbers.Parse("+"+string(digits), "")
}

// callingCodeRegions returns the regions of the country calling code that
// starts digits (calling codes are prefix-free), none when no code does.
func callingCodeRegions(digits []byte) []string {
	code := 0
	for l := 0; l < 3 && l < len(digits)-2; l++ {
		code = code*10 + int(digits[l]-'0')
		if r := phonenumbers.GetRegionCodesForCountryCode(code); len(r) > 0 {
			return r
		}
	}
	return nil
}

// nanpProbes are subscriber numbers (exchange and line) with which an
// area code is tried when a North American number is not valid itself.
var nanpProbes = []string{"2345678", "5550123", "8675309", "4567890", "3456789"}

// nanpAreas caches the country of each North American area code.
var nanpAreas = struct {
	sync.Mutex
	m map[string]string
}{m: make(map[string]string)}

// nanpAreaCountry returns the country of the area code of a North
// American number that is not valid as a whole (an exchange starting with
// 0 or 1, say). In the North American plan each area code belongs to one
// country, so the area code still tells the US from Canada; the area code
// is tried with a few subscriber numbers, and an area code no valid number
// has (555, an unassigned one) gives "".
func nanpAreaCountry(digits []byte) string {
	if len(digits) != 11 {
		return ""
	}
	area := string(digits[1:4])
	nanpAreas.Lock()
	c, ok := nanpAreas.m[area]
	nanpAreas.Unlock()
	if ok {
		return c
	}
	for _, probe := range nanpProbes {
		p, err := parseE164([]byte("1" + area + probe))
		if err != nil {
			continue
		}
		if c = phonenumbers.GetRegionCodeForNumber(p); c != "" {
			break
		}
	}
	nanpAreas.Lock()
	nanpAreas.m[area] = c
	nanpAreas.Unlock()
	return c
}

// countryCache holds the countries of numbers of shared calling codes.
// It is bounded: when full it starts over.
var countryCache = struct {
	sync.Mutex
	m map[string]string
}{m: make(map[string]string)}

const countryCacheLimit = 1 << 18

// sharedCodeCountry parses a number of a calling code shared by several
// regions and returns the region it is valid in, or "".
func sharedCodeCountry(digits []byte) string {
	countryCache.Lock()
	c, ok := countryCache.m[string(digits)]
	countryCache.Unlock()
	if ok {
		return c
	}
	if p, err := parseE164(digits); err == nil {
		c = phonenumbers.GetRegionCodeForNumber(p)
		if code := int(p.GetCountryCode()); c == "" && code == nanpCode {
			c = nanpAreaCountry(digits)
		} else if c == "" {
			// Valid nowhere. Of the regions sharing a calling code, all
			// but the main one are told by their leading digits (Jersey's
			// 447797, Kazakhstan's 77, ...), which did not match: the main
			// region is the one left.
			c = phonenumbers.GetRegionCodeForCountryCode(code)
		}
	}
	if c == worldRegion {
		c = ""
	}
	countryCache.Lock()
	if len(countryCache.m) >= countryCacheLimit {
		clear(countryCache.m)
	}
	countryCache.m[string(digits)] = c
	countryCache.Unlock()
	return c
}
