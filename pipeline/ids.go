package pipeline

import (
	"hash/fnv"
	"strconv"
)

// MakeEventID returns the contract's event id for a status event: 16 hex
// digits of the FNV-1a hash of message id, status and timestamp. Export and
// simulator both use it, so the same event always gets the same id and
// duplicate webhook deliveries collapse to one row.
func MakeEventID(messageID string, status Status, timestamp int64) string {
	h := fnv.New64a()
	h.Write([]byte(messageID))
	var buf [32]byte
	b := append(buf[:0], '|')
	b = append(b, status.String()...)
	b = append(b, '|')
	b = strconv.AppendInt(b, timestamp, 10)
	h.Write(b)
	s := strconv.FormatUint(h.Sum64(), 16)
	for len(s) < 16 {
		s = "0" + s
	}
	return s
}

// callingCodes maps international calling codes to ISO 3166-1 alpha-2
// country codes for the countries where WhatsApp Business traffic is
// common. Longer codes are tried first.
var callingCodes = map[string]string{
	"1": "US", "7": "RU", "20": "EG", "27": "ZA", "30": "GR", "31": "NL", "32": "BE",
	"33": "FR", "34": "ES", "36": "HU", "39": "IT", "40": "RO", "41": "CH", "43": "AT",
	"44": "GB", "45": "DK", "46": "SE", "47": "NO", "48": "PL", "49": "DE", "51": "PE",
	"52": "MX", "53": "CU", "54": "AR", "55": "BR", "56": "CL", "57": "CO", "58": "VE",
	"60": "MY", "61": "AU", "62": "ID", "63": "PH", "64": "NZ", "65": "SG", "66": "TH",
	"81": "JP", "82": "KR", "84": "VN", "86": "CN", "90": "TR", "91": "IN", "92": "PK",
	"93": "AF", "94": "LK", "95": "MM", "98": "IR", "212": "MA", "213": "DZ", "216": "TN",
	"218": "LY", "220": "GM", "221": "SN", "233": "GH", "234": "NG", "254": "KE",
	"255": "TZ", "256": "UG", "351": "PT", "352": "LU", "353": "IE", "354": "IS",
	"358": "FI", "380": "UA", "420": "CZ", "421": "SK", "502": "GT", "503": "SV",
	"504": "HN", "505": "NI", "506": "CR", "507": "PA", "591": "BO", "593": "EC",
	"595": "PY", "598": "UY", "852": "HK", "880": "BD", "886": "TW", "966": "SA",
	"971": "AE", "972": "IL", "974": "QA", "977": "NP",
}

// CountryOfNumber returns the ISO country code of an international phone
// number from its calling code, or "" when the code is not known. The
// North American plan ("1") maps to US.
func CountryOfNumber(number string) string {
	n := NormalizeNumber(number)
	for l := 3; l >= 1; l-- {
		if len(n) > l {
			if c, ok := callingCodes[n[:l]]; ok {
				return c
			}
		}
	}
	return ""
}
