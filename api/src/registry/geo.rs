//! Validation of GeoJSON grid boundaries (RFC 7946 Polygon or MultiPolygon in
//! WGS 84 longitude/latitude).

use serde_json::Value;

use crate::http::error::{ApiError, ApiResult};

fn position(v: &Value) -> Option<(f64, f64)> {
    let (lon, lat) = match v.as_array()?.as_slice() {
        [lon, lat] | [lon, lat, _] => (lon.as_f64()?, lat.as_f64()?),
        _ => return None,
    };
    ((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)).then_some((lon, lat))
}

fn ring_ok(ring: &Value) -> bool {
    let Some(points) = ring.as_array() else {
        return false;
    };
    let parsed: Option<Vec<(f64, f64)>> = points.iter().map(position).collect();
    match parsed {
        Some(p) if p.len() >= 4 => p.first() == p.last(),
        _ => false,
    }
}

fn polygon_ok(rings: &Value) -> bool {
    rings
        .as_array()
        .is_some_and(|r| !r.is_empty() && r.iter().all(ring_ok))
}

/// Checks a boundary; 422 on `boundary` naming what is wrong.
pub fn check_boundary(value: &Value) -> ApiResult<()> {
    let bad = |m: &str| Err(ApiError::field("boundary", m));
    let Some(obj) = value.as_object() else {
        return bad("must be a GeoJSON geometry object");
    };
    if obj
        .keys()
        .any(|k| k != "type" && k != "coordinates" && k != "bbox")
    {
        return bad("only type, coordinates and bbox are accepted");
    }
    let bbox_ok = |b: &Value| {
        b.as_array()
            .is_some_and(|a| a.len() == 4 && a.iter().all(Value::is_number))
    };
    if obj.get("bbox").is_some_and(|b| !bbox_ok(b)) {
        return bad("bbox must be [west, south, east, north]");
    }
    let coords = obj.get("coordinates");
    match (obj.get("type").and_then(Value::as_str), coords) {
        (Some("Polygon"), Some(c)) if polygon_ok(c) => Ok(()),
        (Some("MultiPolygon"), Some(c))
            if c.as_array()
                .is_some_and(|p| !p.is_empty() && p.iter().all(polygon_ok)) =>
        {
            Ok(())
        }
        (Some("Polygon" | "MultiPolygon"), _) => bad(
            "rings need at least 4 [longitude, latitude] positions, closed (first = last), within WGS 84 bounds",
        ),
        _ => bad("type must be Polygon or MultiPolygon"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn polygons() {
        let square = json!({"type": "Polygon", "coordinates": [[[109.8, 40.6], [109.81, 40.6], [109.81, 40.61], [109.8, 40.6]]]});
        assert!(check_boundary(&square).is_ok());
        let open = json!({"type": "Polygon", "coordinates": [[[109.8, 40.6], [109.81, 40.6], [109.81, 40.61], [109.8, 40.62]]]});
        assert!(check_boundary(&open).is_err());
        assert!(check_boundary(&json!({"type": "Point", "coordinates": [1, 2]})).is_err());
        let out = json!({"type": "Polygon", "coordinates": [[[200, 40.6], [109.81, 40.6], [109.81, 40.61], [200, 40.6]]]});
        assert!(check_boundary(&out).is_err());
        let multi = json!({"type": "MultiPolygon", "coordinates": [square["coordinates"].clone()]});
        assert!(check_boundary(&multi).is_ok());
        let mut extra = square.clone();
        extra["name\u{0}"] = json!(1);
        assert!(check_boundary(&extra).is_err());
    }
}
