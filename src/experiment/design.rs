//! A sweep's variants: the design's points, each as the value every axis takes there.
//!
//! Listed designs (`grid`, `zip`, `list`) give their values as written; sampled designs
//! (`random`, `latin_hypercube`, `morris`, `sobol`) draw points in the unit cube from their
//! own seed's `sweep_design` stream and map each coordinate onto its axis's range.

use rand::RngExt;
use serde_json::Value;

use crate::core::rng::{StreamRng, Streams};
use crate::metrics::sensitivity::{
    MorrisDesign, SaltelliDesign, SensitivityError, morris_design, saltelli_design,
};
use crate::scenario::defaults::DEFAULT_MORRIS_LEVELS;
use crate::scenario::sweep::{Design, RangeAxis, ValuesAxis};

/// One variant of a sweep, before it is loaded.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// How tables name it: its assignments (`path=value, ...`), its listed name, or
    /// `sample i` for a sampled design.
    pub label: String,
    /// The value each axis takes, in the design's order of axes.
    pub params: Vec<(String, Value)>,
}

/// A sensitivity design's points in the unit cube, kept for its indices.
#[derive(Clone, Debug)]
pub enum Sample {
    /// A design that gives no indices: listed values, independent or Latin-hypercube
    /// samples.
    Plain,
    /// Morris trajectories.
    Morris(MorrisDesign),
    /// Saltelli's matrices.
    Saltelli(SaltelliDesign),
}

/// The design's variants, in its order, and the sample they came from.
///
/// # Errors
/// A sensitivity design's sizes are impossible (a checked sweep file has none).
pub fn expand(design: &Design) -> Result<(Vec<Variant>, Sample), SensitivityError> {
    let stream = || Streams::new(design.seed(), 0).stream("sweep_design");
    Ok(match design {
        Design::Grid { axes } => (grid(axes), Sample::Plain),
        Design::Zip { axes } => (zip(axes), Sample::Plain),
        Design::List { variants } => {
            let list = variants
                .iter()
                .map(|v| {
                    let params: Vec<(String, Value)> =
                        v.set.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                    Variant {
                        label: v.name.clone().unwrap_or_else(|| label_of(&params)),
                        params,
                    }
                })
                .collect();
            (list, Sample::Plain)
        }
        Design::Random { samples, axes, .. } => {
            let mut rng = stream();
            let points: Vec<Vec<f64>> = (0..*samples)
                .map(|_| axes.iter().map(|_| rng.random::<f64>()).collect())
                .collect();
            (sampled(axes, &points), Sample::Plain)
        }
        Design::LatinHypercube { samples, axes, .. } => {
            let points = latin_hypercube(*samples as usize, axes.len(), &mut stream());
            (sampled(axes, &points), Sample::Plain)
        }
        Design::Morris {
            trajectories,
            levels,
            axes,
            ..
        } => {
            let d = morris_design(
                axes.len(),
                *trajectories as usize,
                levels.unwrap_or(DEFAULT_MORRIS_LEVELS) as usize,
                &mut stream(),
            )?;
            let points: Vec<Vec<f64>> = d.points().map(<[f64]>::to_vec).collect();
            (sampled(axes, &points), Sample::Morris(d))
        }
        Design::Sobol { samples, axes, .. } => {
            let d = saltelli_design(axes.len(), *samples as usize, &mut stream())?;
            let points: Vec<Vec<f64>> = d.points().map(<[f64]>::to_vec).collect();
            (sampled(axes, &points), Sample::Saltelli(d))
        }
    })
}

/// Every combination, the last axis varying fastest.
fn grid(axes: &[ValuesAxis]) -> Vec<Variant> {
    let mut combos: Vec<Vec<(String, Value)>> = vec![Vec::new()];
    for a in axes {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                a.values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((a.path.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    combos.into_iter().map(variant).collect()
}

fn zip(axes: &[ValuesAxis]) -> Vec<Variant> {
    let n = axes.first().map_or(0, |a| a.values.len());
    (0..n)
        .map(|i| {
            variant(
                axes.iter()
                    .map(|a| (a.path.clone(), a.values[i].clone()))
                    .collect(),
            )
        })
        .collect()
}

fn variant(params: Vec<(String, Value)>) -> Variant {
    Variant {
        label: label_of(&params),
        params,
    }
}

/// Points in the unit cube mapped onto the axes' ranges.
fn sampled(axes: &[RangeAxis], points: &[Vec<f64>]) -> Vec<Variant> {
    points
        .iter()
        .enumerate()
        .map(|(i, p)| Variant {
            label: format!("sample {i}"),
            params: axes
                .iter()
                .zip(p)
                .map(|(a, &u)| (a.path.clone(), number(a.at(u), a.integer)))
                .collect(),
        })
        .collect()
}

fn number(x: f64, integer: bool) -> Value {
    if integer && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// `n` points of a Latin hypercube in `k` dimensions: in each dimension, one point in each
/// of the `n` equal strata, at a uniform place inside it, the strata shuffled.
fn latin_hypercube(n: usize, k: usize, rng: &mut StreamRng) -> Vec<Vec<f64>> {
    let mut points = vec![vec![0.0; k]; n];
    for d in 0..k {
        let mut strata: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            strata.swap(i, rng.random_range(0..=i));
        }
        for (p, s) in points.iter_mut().zip(strata) {
            p[d] = (s as f64 + rng.random::<f64>()) / n as f64;
        }
    }
    points
}

/// `path=value, path=value`, strings bare.
pub fn label_of(params: &[(String, Value)]) -> String {
    if params.is_empty() {
        return "base".into();
    }
    params
        .iter()
        .map(|(p, v)| format!("{p}={}", show(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value as a table shows it: strings bare, anything else as compact JSON.
pub fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::sweep::Scale;
    use serde_json::json;

    fn axis(path: &str, values: &[Value]) -> ValuesAxis {
        ValuesAxis {
            path: path.into(),
            values: values.to_vec(),
        }
    }

    #[test]
    fn a_grid_is_every_combination_with_the_last_axis_fastest() {
        let d = Design::Grid {
            axes: vec![
                axis("a", &[json!(1), json!(2)]),
                axis("b", &[json!("x"), json!("y"), json!("z")]),
            ],
        };
        let (v, _) = expand(&d).expect("design");
        let labels: Vec<&str> = v.iter().map(|v| v.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "a=1, b=x", "a=1, b=y", "a=1, b=z", "a=2, b=x", "a=2, b=y", "a=2, b=z"
            ]
        );
    }

    #[test]
    fn a_zip_pairs_the_axes_values() {
        let d = Design::Zip {
            axes: vec![
                axis("a", &[json!(1), json!(2)]),
                axis("b", &[json!({"m": 1}), json!(4.5)]),
            ],
        };
        let (v, _) = expand(&d).expect("design");
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].label, r#"a=1, b={"m":1}"#);
        assert_eq!(
            v[1].params,
            vec![("a".into(), json!(2)), ("b".into(), json!(4.5))]
        );
    }

    #[test]
    fn a_latin_hypercube_fills_every_stratum_of_every_axis_once() {
        let n = 50;
        let points = latin_hypercube(n, 3, &mut Streams::new(7, 0).stream("sweep_design"));
        for d in 0..3 {
            let mut strata: Vec<usize> = points
                .iter()
                .map(|p| (p[d] * n as f64).floor() as usize)
                .collect();
            strata.sort_unstable();
            assert_eq!(strata, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn sampled_designs_are_fixed_by_their_own_seed() {
        let range = RangeAxis {
            path: "a".into(),
            low: 1.0,
            high: 1000.0,
            scale: Scale::Log,
            integer: true,
        };
        let d = |seed| Design::Random {
            samples: 20,
            seed,
            axes: vec![range.clone()],
        };
        let (a, _) = expand(&d(None)).expect("design");
        let (b, _) =
            expand(&d(Some(crate::scenario::defaults::DEFAULT_DESIGN_SEED))).expect("design");
        let (c, _) = expand(&d(Some(2))).expect("design");
        assert_eq!(a, b);
        assert_ne!(a, c);
        for v in &a {
            let x = v.params[0].1.as_i64().expect("integer");
            assert!((1..=1000).contains(&x), "{x}");
        }
    }
}
