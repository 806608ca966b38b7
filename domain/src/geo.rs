//! Just enough geometry to route a case: whether a WGS 84 point lies inside a
//! grid's GeoJSON Polygon or MultiPolygon (even-odd rule, holes respected).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A WGS 84 point.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Point {
    /// Longitude in degrees, east positive.
    pub lon: f64,
    /// Latitude in degrees, north positive.
    pub lat: f64,
}

/// Whether (`lon`, `lat`) lies inside the GeoJSON `geometry`.
pub fn contains(geometry: &Value, lon: f64, lat: f64) -> bool {
    let coords = &geometry["coordinates"];
    match geometry["type"].as_str() {
        Some("Polygon") => in_polygon(coords, lon, lat),
        Some("MultiPolygon") => coords
            .as_array()
            .is_some_and(|polys| polys.iter().any(|p| in_polygon(p, lon, lat))),
        _ => false,
    }
}

/// Inside the outer ring and outside every hole.
fn in_polygon(rings: &Value, lon: f64, lat: f64) -> bool {
    let Some(rings) = rings.as_array() else {
        return false;
    };
    let mut iter = rings.iter();
    match iter.next() {
        Some(outer) if in_ring(outer, lon, lat) => !iter.any(|hole| in_ring(hole, lon, lat)),
        _ => false,
    }
}

fn in_ring(ring: &Value, x: f64, y: f64) -> bool {
    let points: Vec<(f64, f64)> = ring
        .as_array()
        .map(|pts| {
            pts.iter()
                .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
                .collect()
        })
        .unwrap_or_default();
    // Each edge runs from the previous point (the last one, for the first) to
    // the current one.
    let Some(&last) = points.last() else {
        return false;
    };
    let mut inside = false;
    let mut prev = last;
    for &(xi, yi) in &points {
        let (xj, yj) = prev;
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        prev = (xi, yi);
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn polygons_holes_and_multipolygons() {
        let square = json!({"type": "Polygon", "coordinates": [
            [[109.8, 40.6], [109.9, 40.6], [109.9, 40.7], [109.8, 40.7], [109.8, 40.6]],
            [[109.84, 40.64], [109.86, 40.64], [109.86, 40.66], [109.84, 40.66], [109.84, 40.64]]
        ]});
        assert!(contains(&square, 109.81, 40.61));
        assert!(!contains(&square, 109.85, 40.65), "in the hole");
        assert!(!contains(&square, 110.0, 40.65), "outside");
        let multi = json!({"type": "MultiPolygon", "coordinates": [
            [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]],
            [[[109.8, 40.6], [109.9, 40.6], [109.9, 40.7], [109.8, 40.6]]]
        ]});
        assert!(contains(&multi, 109.89, 40.61));
        assert!(!contains(&multi, 109.81, 40.69));
        assert!(!contains(
            &json!({"type": "Point", "coordinates": [0, 0]}),
            0.0,
            0.0
        ));
        assert!(!contains(
            &json!({"type": "Polygon", "coordinates": "x"}),
            0.0,
            0.0
        ));
    }
}

/// Checks a GPS track: a GeoJSON `LineString` of 2 to 10,000 WGS 84
/// positions (`[lon, lat]`, an optional third number for altitude).
pub fn check_track(track: &Value) -> Result<(), &'static str> {
    if track.get("type").and_then(Value::as_str) != Some("LineString") {
        return Err("a GeoJSON LineString");
    }
    let points = track
        .get("coordinates")
        .and_then(Value::as_array)
        .ok_or("coordinates: an array of [lon, lat] positions")?;
    if !(2..=10_000).contains(&points.len()) {
        return Err("2 to 10000 positions");
    }
    let valid = points.iter().all(|p| {
        let Some(xs) = p.as_array() else { return false };
        let (lon, lat) = (
            xs.first().and_then(Value::as_f64),
            xs.get(1).and_then(Value::as_f64),
        );
        (2..=3).contains(&xs.len())
            && lon.is_some_and(|v| (-180.0..=180.0).contains(&v))
            && lat.is_some_and(|v| (-90.0..=90.0).contains(&v))
    });
    if valid {
        Ok(())
    } else {
        Err("every position is [lon, lat] within WGS 84 bounds")
    }
}

#[cfg(test)]
mod track_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tracks_are_line_strings_of_valid_positions() {
        assert!(check_track(&json!({"type": "LineString", "coordinates": [[109.8, 40.6], [109.81, 40.61, 1050.0]]})).is_ok());
        assert!(check_track(&json!({"type": "Point", "coordinates": [109.8, 40.6]})).is_err());
        assert!(
            check_track(&json!({"type": "LineString", "coordinates": [[109.8, 40.6]]})).is_err()
        );
        assert!(
            check_track(
                &json!({"type": "LineString", "coordinates": [[109.8, 40.6], [200.0, 40.6]]})
            )
            .is_err()
        );
        assert!(
            check_track(&json!({"type": "LineString", "coordinates": [[109.8, 40.6], ["x", 1]]}))
                .is_err()
        );
    }
}
