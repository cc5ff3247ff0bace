// Package fonts embeds the fonts the PDF reports are drawn with.
//
// WQYMicroHei is face 0 ("WenQuanYi Micro Hei", TrueType outlines) of Debian's
// fonts-wqy-microhei wqy-microhei.ttc, cut out of the collection unchanged by
// extract_ttc.go. Licence: Apache-2.0 (LICENSE-Apache-2.0, README.md).
package fonts

import _ "embed"

// WQYMicroHei is the TrueType font file (about 4.6 MB; the PDF renderer embeds only the
// glyphs a document uses).
//
//go:embed wqy-microhei.ttf
var WQYMicroHei []byte
