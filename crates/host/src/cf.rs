//! `request.cf` per colo: the fields a JavaScript Worker finds on its request in production,
//! from a table per colo (sent to the adapter in `GET /config`, see [`crate::internal`]).
//!
//! In production `request.cf` describes the *client* (its IP's location and network) and the
//! connection to Cloudflare. edgesim has no real client, so each colo stands for a typical
//! client near it: the colo's city as Cloudflare reports it (`IAD` is Ashburn, Virginia; `FRA`
//! is Frankfurt am Main), that region's ISO 3166-2 code, a postal code in the city centre, the
//! US DMA metro code (US only), the city's IANA time zone and coordinates (strings with five
//! decimals, as production sends them), and a large local access network as `asn` /
//! `asOrganization`. The connection fields are those of an HTTP/1.1 client over TLS 1.3, the same
//! values Miniflare's placeholder `cf` object has, so the shape matches what `wrangler dev` users
//! see. `country` is the colo's configured country (`Colo::country`, the `cf-ipcountry`
//! header); `isEUCountry: "1"` is present only for EU member states, as in production.
//! `clientAcceptEncoding` is filled by the adapter from the request's `Accept-Encoding`.
//!
//! Not emulated: fields Miniflare also leaves out (`tlsClientHelloLength`, `tlsClientRandom`,
//! `tlsClientExtensionsSha1`, `tlsExportedAuthenticator`, `hostMetadata`,
//! `verifiedBotCategory`); `botManagement` is Miniflare's placeholder (production sends it
//! only with Bot Management).

use crate::config::Colo;
use serde_json::{Map, Value, json};

/// One colo's client: `(code, city, region, regionCode, postalCode, metroCode, continent,
/// timezone, latitude, longitude)`.
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

#[rustfmt::skip]
const CLIENTS: &[Row] = &[
    ("SYD", "Sydney", "New South Wales", "NSW", "2000", "", "OC", "Australia/Sydney", "-33.86780", "151.20730"),
    ("MEL", "Melbourne", "Victoria", "VIC", "3000", "", "OC", "Australia/Melbourne", "-37.81360", "144.96310"),
    ("LHR", "London", "England", "ENG", "EC1A", "", "EU", "Europe/London", "51.50740", "-0.12780"),
    ("IAD", "Ashburn", "Virginia", "VA", "20147", "511", "NA", "America/New_York", "39.04370", "-77.48750"),
    ("SJC", "San Jose", "California", "CA", "95113", "807", "NA", "America/Los_Angeles", "37.33940", "-121.89500"),
    ("DFW", "Dallas", "Texas", "TX", "75201", "623", "NA", "America/Chicago", "32.78310", "-96.80670"),
    ("LAX", "Los Angeles", "California", "CA", "90012", "803", "NA", "America/Los_Angeles", "34.05220", "-118.24370"),
    ("ORD", "Chicago", "Illinois", "IL", "60601", "602", "NA", "America/Chicago", "41.87810", "-87.62980"),
    ("SIN", "Singapore", "", "", "018989", "", "AS", "Asia/Singapore", "1.28970", "103.85010"),
    ("NRT", "Tokyo", "Tokyo", "13", "100-0001", "", "AS", "Asia/Tokyo", "35.68950", "139.69170"),
    ("HKG", "Hong Kong", "", "", "", "", "AS", "Asia/Hong_Kong", "22.31930", "114.16940"),
    ("GRU", "São Paulo", "São Paulo", "SP", "01000-000", "", "SA", "America/Sao_Paulo", "-23.55050", "-46.63330"),
    ("FRA", "Frankfurt am Main", "Hesse", "HE", "60311", "", "EU", "Europe/Berlin", "50.11090", "8.68210"),
    ("CDG", "Paris", "Île-de-France", "IDF", "75001", "", "EU", "Europe/Paris", "48.85660", "2.35220"),
    ("AMS", "Amsterdam", "North Holland", "NH", "1012", "", "EU", "Europe/Amsterdam", "52.36760", "4.90410"),
    ("BOM", "Mumbai", "Maharashtra", "MH", "400001", "", "AS", "Asia/Kolkata", "19.07600", "72.87770"),
    ("JNB", "Johannesburg", "Gauteng", "GP", "2001", "", "AF", "Africa/Johannesburg", "-26.20410", "28.04730"),
    ("YYZ", "Toronto", "Ontario", "ON", "M5H", "", "NA", "America/Toronto", "43.65320", "-79.38320"),
];

/// A large access network per country: `(country, asn, asOrganization)`.
const NETWORKS: &[(&str, u32, &str)] = &[
    ("AU", 1221, "Telstra Limited"),
    ("GB", 2856, "British Telecommunications PLC"),
    ("US", 7922, "Comcast Cable Communications, LLC"),
    ("SG", 9506, "Singtel Fibre Broadband"),
    ("JP", 4713, "NTT Communications Corporation"),
    ("HK", 4760, "HKT Limited"),
    ("BR", 28573, "Claro NXT Telecomunicacoes Ltda"),
    ("DE", 3320, "Deutsche Telekom AG"),
    ("FR", 3215, "Orange S.A."),
    ("NL", 1136, "KPN B.V."),
    ("IN", 55836, "Reliance Jio Infocomm Limited"),
    ("ZA", 37457, "Telkom SA Ltd."),
    ("CA", 577, "Bell Canada"),
];

/// EU member states (production adds `isEUCountry: "1"` for these alone).
const EU: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

/// `request.cf` (without `clientAcceptEncoding`, which depends on the request) for a request at
/// `colo`, in production's field order. A colo the table does not know gets empty location
/// fields, `asn` 0 and the `UTC` time zone.
pub fn request_cf(colo: &Colo) -> Value {
    let client = CLIENTS.iter().find(|r| r.0 == colo.code);
    let (city, region, region_code, postal, metro, continent, tz, lat, lon) = match client {
        Some(r) => (r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9),
        None => ("", "", "", "", "", "", "UTC", "0.00000", "0.00000"),
    };
    let (asn, org) = NETWORKS
        .iter()
        .find(|n| n.0 == colo.country)
        .map(|n| (n.1, n.2))
        .unwrap_or((0, ""));
    let mut cf = Map::new();
    let mut put = |k: &str, v: Value| {
        cf.insert(k.to_string(), v);
    };
    put("asOrganization", json!(org));
    put("asn", json!(asn));
    put("colo", json!(colo.code));
    put("city", json!(city));
    put("region", json!(region));
    put("regionCode", json!(region_code));
    put("metroCode", json!(metro));
    put("postalCode", json!(postal));
    put("country", json!(colo.country));
    if EU.contains(&colo.country.as_str()) {
        put("isEUCountry", json!("1"));
    }
    put("continent", json!(continent));
    put("timezone", json!(tz));
    put("latitude", json!(lat));
    put("longitude", json!(lon));
    put("clientTcpRtt", json!(0));
    put("httpProtocol", json!("HTTP/1.1"));
    put("requestPriority", json!("weight=192;exclusive=0"));
    put("tlsCipher", json!("AEAD-AES128-GCM-SHA256"));
    put("tlsVersion", json!("TLSv1.3"));
    put("tlsClientAuth", tls_client_auth());
    put("edgeRequestKeepAliveStatus", json!(0));
    put("clientTrustScore", json!(99));
    put(
        "botManagement",
        json!({
            "corporateProxy": false,
            "verifiedBot": false,
            "ja3Hash": "25b4882c2bcb50cd6b469ff28c596742",
            "staticResource": false,
            "detectionIds": [],
            "score": 99
        }),
    );
    Value::Object(cf)
}

/// No client certificate (production's values for a request without mTLS).
fn tls_client_auth() -> Value {
    let mut m = Map::new();
    m.insert("certPresented".into(), json!("0"));
    m.insert("certVerified".into(), json!("NONE"));
    m.insert("certRevoked".into(), json!("0"));
    for k in [
        "certIssuerDN",
        "certSubjectDN",
        "certIssuerDNRFC2253",
        "certSubjectDNRFC2253",
        "certIssuerDNLegacy",
        "certSubjectDNLegacy",
        "certSerial",
        "certIssuerSerial",
        "certSKI",
        "certIssuerSKI",
        "certFingerprintSHA1",
        "certFingerprintSHA256",
        "certNotBefore",
        "certNotAfter",
    ] {
        m.insert(k.into(), json!(""));
    }
    Value::Object(m)
}

/// The table the adapter receives: colo code to [`request_cf`].
pub(crate) fn table(colos: &[Colo]) -> Value {
    Value::Object(
        colos
            .iter()
            .map(|c| (c.code.clone(), request_cf(c)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_well_known_colo_has_a_client_and_a_network() {
        for code in Colo::well_known() {
            let cf = request_cf(&Colo::from_code(code));
            assert_ne!(cf["city"], "", "{code}");
            assert_ne!(cf["asn"], 0, "{code}");
            assert_eq!(cf["colo"], code);
            assert!(cf["latitude"].as_str().unwrap().parse::<f64>().is_ok());
        }
    }

    #[test]
    fn eu_only_where_production_says_so() {
        assert_eq!(request_cf(&Colo::from_code("FRA"))["isEUCountry"], "1");
        assert!(
            request_cf(&Colo::from_code("SYD"))
                .get("isEUCountry")
                .is_none()
        );
        assert!(
            request_cf(&Colo::from_code("LHR"))
                .get("isEUCountry")
                .is_none()
        );
    }

    #[test]
    fn an_unknown_colo_keeps_the_shape() {
        let known = request_cf(&Colo::from_code("SYD"));
        let unknown = request_cf(&Colo::new("ZZZ", "XX"));
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&known), keys(&unknown));
        assert_eq!(unknown["timezone"], "UTC");
    }
}
