//! Charts as data, drawn by plotters onto SVG text or an RGB buffer: line charts with
//! confidence bands and a shaded span (the warm-up), and grouped bar charts with interval
//! whiskers and a reference line. Text is drawn with the bundled DejaVu Sans through
//! ab_glyph, so nothing depends on the fonts of the machine, and the same chart gives the
//! same bytes.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

/// The font every chart is drawn in (and the SVG names; `report.html` embeds it).
pub const FONT: &str = "DejaVu Sans";

/// The bundled font's bytes (DejaVu Sans 2.37, Bitstream Vera licence: `font/LICENSE-DejaVu`).
pub const FONT_TTF: &[u8] = include_bytes!("../font/DejaVuSans.ttf");

/// Width and height of every chart, pixels.
pub const SIZE: (u32, u32) = (960, 540);

/// One line of a line chart, with an optional band (x, low, high) drawn under it.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The legend's label.
    pub name: String,
    /// (x, y), in order of x.
    pub points: Vec<(f64, f64)>,
    /// (x, low, high): a 95% interval, say.
    pub band: Vec<(f64, f64, f64)>,
    /// Points with the band as whiskers instead of a line over a shaded band: for points
    /// that are not a path (variants that differ in more than this x).
    pub markers: bool,
}

/// A line chart.
#[derive(Clone, Debug, PartialEq)]
pub struct LineChart {
    /// The title.
    pub title: String,
    /// The x axis' label, with its unit.
    pub x_label: String,
    /// The y axis' label, with its unit.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// A span of x shaded grey, with its legend label (the warm-up).
    pub shaded: Option<(f64, f64, String)>,
}

/// One bar: its value and optional interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bar {
    /// The bar's height.
    pub value: f64,
    /// The interval's ends, drawn as a whisker.
    pub interval: Option<(f64, f64)>,
}

/// A grouped bar chart: a group per category, a bar per series in each.
#[derive(Clone, Debug, PartialEq)]
pub struct BarChart {
    /// The title.
    pub title: String,
    /// What the categories are (the x axis' label).
    pub x_label: String,
    /// The y axis' label, with its unit.
    pub y_label: String,
    /// The categories, left to right.
    pub categories: Vec<String>,
    /// (legend label, one bar per category, none where undefined).
    pub series: Vec<(String, Vec<Option<Bar>>)>,
    /// A horizontal line at this value, with its legend label (the cloud's cost, 1).
    pub reference: Option<(f64, String)>,
}

/// A grid of cells over two parameters, each coloured by its value and labelled with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Heatmap {
    /// The title.
    pub title: String,
    /// The first parameter.
    pub x_label: String,
    /// The second parameter.
    pub y_label: String,
    /// The first parameter's values, left to right.
    pub x_values: Vec<String>,
    /// The second parameter's values, bottom to top.
    pub y_values: Vec<String>,
    /// (column, row, value).
    pub cells: Vec<(usize, usize, f64)>,
}

/// Horizontal bars, one per category, largest first from the top: a tornado chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Tornado {
    /// The title.
    pub title: String,
    /// The value axis' label.
    pub x_label: String,
    /// (category, bar), drawn top to bottom in this order.
    pub bars: Vec<(String, Bar)>,
}

/// A chart of either kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Chart {
    /// Lines over a numeric x.
    Line(LineChart),
    /// Bars over categories.
    Bars(BarChart),
    /// Horizontal bars over categories.
    Tornado(Tornado),
    /// Cells over two parameters.
    Heatmap(Heatmap),
}

impl Chart {
    /// The chart's title.
    pub fn title(&self) -> &str {
        match self {
            Self::Line(c) => &c.title,
            Self::Bars(c) => &c.title,
            Self::Tornado(c) => &c.title,
            Self::Heatmap(c) => &c.title,
        }
    }

    /// The chart as SVG text.
    ///
    /// # Errors
    /// What plotters reported.
    pub fn svg(&self) -> Result<String, String> {
        let mut text = String::new();
        {
            let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
            self.draw(&root).map_err(|e| e.to_string())?;
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(text)
    }

    /// The chart as 8-bit RGB pixels, row by row, [`SIZE`].
    ///
    /// # Errors
    /// What plotters reported.
    pub fn rgb(&self) -> Result<Vec<u8>, String> {
        let mut pixels = vec![255u8; (SIZE.0 * SIZE.1 * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
            self.draw(&root).map_err(|e| e.to_string())?;
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(pixels)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        register();
        root.fill(&WHITE)?;
        match self {
            Self::Line(c) => draw_lines(c, root),
            Self::Bars(c) => draw_bars(c, root),
            Self::Tornado(c) => draw_tornado(c, root),
            Self::Heatmap(c) => draw_heatmap(c, root),
        }
    }
}

type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Registers the bundled font once (plotters keeps a process-wide table).
fn register() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font, checked by a unit test.
        let _ = register_font(FONT, FontStyle::Normal, FONT_TTF);
    });
}

/// The title's font size: smaller for a long title (a sweep's names its metric and
/// parameters), so that it fits the chart's width.
fn caption_size(title: &str) -> f64 {
    match title.chars().count() {
        0..=60 => 24.0,
        61..=80 => 19.0,
        81..=100 => 15.0,
        _ => 12.0,
    }
}

/// A tick label short enough for the axis: 3 significant figures, thousands as k, M, G, T.
fn tick(v: f64) -> String {
    let a = v.abs();
    let (scaled, unit) = match a {
        a if a >= 1e12 => (v / 1e12, "T"),
        a if a >= 1e9 => (v / 1e9, "G"),
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e4 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    if scaled == 0.0 {
        return "0".into();
    }
    let digits = (2 - scaled.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let text = format!("{scaled:.digits$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text}{unit}")
}

/// Colour `i` of a palette that stays distinct in grey and for the common colour blindness
/// (Okabe and Ito 2008).
fn colour(i: usize) -> RGBColor {
    const OKABE_ITO: [(u8, u8, u8); 7] = [
        (0, 114, 178),
        (230, 159, 0),
        (0, 158, 115),
        (204, 121, 167),
        (86, 180, 233),
        (213, 94, 0),
        (0, 0, 0),
    ];
    let (r, g, b) = OKABE_ITO[i % OKABE_ITO.len()];
    RGBColor(r, g, b)
}

/// A range holding every value, a little wider (on the y axis, room above for a legend of
/// `legend` entries in the upper right, so that it hides no data), never empty.
fn range(values: impl Iterator<Item = f64>, from_zero: bool, legend: usize) -> (f64, f64) {
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if from_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else {
        0.5 * hi.abs().max(1.0)
    };
    (
        if from_zero && lo == 0.0 {
            0.0
        } else {
            lo - pad
        },
        hi + pad * (1.0 + 1.6 * legend as f64),
    )
}

fn draw_lines<DB: DrawingBackend>(c: &LineChart, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
    // The shaded span (the warm-up, from time 0) is part of the picture.
    let xs = c
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .chain(c.shaded.iter().flat_map(|s| [s.0, s.1]));
    let (x0, x1) = range(xs, false, 0);
    let ys = c.series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.1)
            .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
    });
    let entries = c.series.len() + usize::from(c.shaded.is_some());
    let (y0, y1) = range(ys, true, entries);
    let mut chart = ChartBuilder::on(root)
        .caption(&c.title, (FONT, caption_size(&c.title)))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(84)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(&c.x_label)
        .y_desc(&c.y_label)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    if let Some((a, b, label)) = &c.shaded {
        let grey = RGBColor(160, 160, 160).mix(0.25);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(*a, y0), (*b, y1)],
                grey.filled(),
            )))?
            .label(label.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], grey.filled()));
    }
    for (i, s) in c.series.iter().enumerate() {
        let col = colour(i);
        if s.markers {
            chart.draw_series(s.band.iter().map(|&(x, lo, hi)| {
                PathElement::new(vec![(x, lo), (x, hi)], col.mix(0.6).stroke_width(1))
            }))?;
            chart
                .draw_series(s.points.iter().map(|&p| Circle::new(p, 4, col.filled())))?
                .label(s.name.as_str())
                .legend(move |(x, y)| Circle::new((x + 9, y), 4, col.filled()));
            continue;
        }
        if !s.band.is_empty() {
            let outline: Vec<(f64, f64)> = s
                .band
                .iter()
                .map(|b| (b.0, b.2))
                .chain(s.band.iter().rev().map(|b| (b.0, b.1)))
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                col.mix(0.2).filled(),
            )))?;
        }
        chart
            .draw_series(LineSeries::new(
                s.points.iter().copied(),
                col.stroke_width(2),
            ))?
            .label(s.name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], col.stroke_width(2)));
    }
    legend(&mut chart)
}

fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> Drawn<DB> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
}

fn draw_bars<DB: DrawingBackend>(c: &BarChart, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
    let n = c.categories.len().max(1);
    let values = c.series.iter().flat_map(|(_, bars)| {
        bars.iter()
            .flatten()
            .flat_map(|b| {
                [
                    Some(b.value),
                    b.interval.map(|i| i.0),
                    b.interval.map(|i| i.1),
                ]
            })
            .flatten()
    });
    let entries = c.series.len() + usize::from(c.reference.is_some());
    let (y0, y1) = range(values.chain(c.reference.iter().map(|r| r.0)), true, entries);
    let categories = c.categories.clone();
    let mut chart = ChartBuilder::on(root)
        .caption(&c.title, (FONT, caption_size(&c.title)))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(84)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(&c.x_label)
        .y_desc(&c.y_label)
        .x_labels(n)
        .x_label_formatter(&|x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                categories.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .disable_x_mesh()
        .y_label_formatter(&|v| tick(*v))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let k = c.series.len().max(1) as f64;
    let width = 0.8 / k;
    for (j, (name, bars)) in c.series.iter().enumerate() {
        let col = colour(j);
        let left = |i: usize| i as f64 - 0.4 + j as f64 * width;
        chart
            .draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
                let b = (*b)?;
                Some(Rectangle::new(
                    [
                        (left(i) + 0.1 * width, 0.0),
                        (left(i) + 0.9 * width, b.value),
                    ],
                    col.filled(),
                ))
            }))?
            .label(name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], col.filled()));
        chart.draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
            let (lo, hi) = (*b)?.interval?;
            let mid = left(i) + 0.5 * width;
            Some(PathElement::new(
                vec![
                    (mid - 0.2 * width, lo),
                    (mid + 0.2 * width, lo),
                    (mid, lo),
                    (mid, hi),
                    (mid - 0.2 * width, hi),
                    (mid + 0.2 * width, hi),
                ],
                BLACK.stroke_width(1),
            ))
        }))?;
    }
    if let Some((y, label)) = &c.reference {
        let red = RGBColor(200, 0, 0);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(-0.5, *y), (n as f64 - 0.5, *y)],
                red.stroke_width(2),
            )))?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], red.stroke_width(2)));
    }
    legend(&mut chart)
}

/// A colour for `t` in [0, 1] on viridis (van der Walt and Smith 2015), by its five stops:
/// perceptually even, readable in grey and by the common colour blindness.
fn viridis(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let x = t.clamp(0.0, 1.0) * 4.0;
    let k = (x.floor() as usize).min(3);
    let f = x - k as f64;
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    let mix = |p: f64, q: f64| (p + f * (q - p)).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

fn draw_heatmap<DB: DrawingBackend>(c: &Heatmap, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
    let (nx, ny) = (c.x_values.len().max(1), c.y_values.len().max(1));
    let (lo, hi) = c
        .cells
        .iter()
        .map(|x| x.2)
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    let xs = c.x_values.clone();
    let ys = c.y_values.clone();
    let mut chart = ChartBuilder::on(root)
        .caption(&c.title, (FONT, caption_size(&c.title)))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(84)
        .build_cartesian_2d(-0.5..(nx as f64 - 0.5), -0.5..(ny as f64 - 0.5))?;
    let label = |values: &[String], v: f64| {
        let k = v.round();
        if (v - k).abs() < 1e-6 && k >= 0.0 {
            values.get(k as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .x_desc(&c.x_label)
        .y_desc(&c.y_label)
        .x_labels(nx)
        .y_labels(ny)
        .x_label_formatter(&|v| label(&xs, *v))
        .y_label_formatter(&|v| label(&ys, *v))
        .disable_mesh()
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()?;
    let t = |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
    chart.draw_series(c.cells.iter().map(|&(i, j, v)| {
        let (x, y) = (i as f64, j as f64);
        Rectangle::new(
            [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
            viridis(t(v)).filled(),
        )
    }))?;
    chart.draw_series(c.cells.iter().map(|&(i, j, v)| {
        // Dark text on the light end of the scale, light text on the dark end.
        let ink = if t(v) > 0.6 { BLACK } else { WHITE };
        Text::new(
            tick(v),
            (i as f64 - 0.15, j as f64),
            (FONT, 14).into_font().color(&ink),
        )
    }))?;
    Ok(())
}

fn draw_tornado<DB: DrawingBackend>(c: &Tornado, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
    let n = c.bars.len().max(1);
    let values = c.bars.iter().flat_map(|(_, b)| {
        [
            Some(b.value),
            b.interval.map(|i| i.0),
            b.interval.map(|i| i.1),
        ]
        .into_iter()
        .flatten()
    });
    let (x0, x1) = range(values, true, 0);
    let labels: Vec<String> = c.bars.iter().map(|(l, _)| l.clone()).collect();
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    // Category i sits at y = n - 1 - i, so the first is at the top.
    let at = move |i: usize| (n - 1 - i) as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(&c.title, (FONT, caption_size(&c.title)))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size((12 + 8 * longest).min(420) as u32)
        .build_cartesian_2d(x0..x1, -0.5..(n as f64 - 0.5))?;
    chart
        .configure_mesh()
        .x_desc(&c.x_label)
        .x_label_formatter(&|v| tick(*v))
        .y_labels(n)
        .y_label_formatter(&|y: &f64| {
            let k = y.round();
            if (y - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < n {
                labels[n - 1 - k as usize].clone()
            } else {
                String::new()
            }
        })
        .disable_y_mesh()
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let col = colour(0);
    chart.draw_series(c.bars.iter().enumerate().map(|(i, (_, b))| {
        Rectangle::new([(0.0, at(i) - 0.35), (b.value, at(i) + 0.35)], col.filled())
    }))?;
    chart.draw_series(c.bars.iter().enumerate().filter_map(|(i, (_, b))| {
        let (lo, hi) = b.interval?;
        Some(PathElement::new(
            vec![
                (lo, at(i) - 0.15),
                (lo, at(i) + 0.15),
                (lo, at(i)),
                (hi, at(i)),
                (hi, at(i) - 0.15),
                (hi, at(i) + 0.15),
            ],
            BLACK.stroke_width(1),
        ))
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> Chart {
        Chart::Line(LineChart {
            title: "GPU utilisation".into(),
            x_label: "time (h)".into(),
            y_label: "share of GPU-time busy".into(),
            series: vec![Series {
                name: "mean".into(),
                points: vec![(0.0, 0.1), (1.0, 0.3), (2.0, 0.2)],
                band: vec![(0.0, 0.05, 0.15), (1.0, 0.25, 0.35), (2.0, 0.1, 0.3)],
                markers: false,
            }],
            shaded: Some((0.0, 0.5, "warm-up".into())),
        })
    }

    #[test]
    fn ticks_are_short() {
        let cases = [
            (600_000_000.0, "600M"),
            (1_250_000.0, "1.25M"),
            (15_000.0, "15k"),
            (2_500.0, "2500"),
            (0.45, "0.45"),
            (0.0, "0"),
            (-0.2, "-0.2"),
            (3.0e12, "3T"),
        ];
        for (v, want) in cases {
            assert_eq!(tick(v), want, "{v}");
        }
    }

    #[test]
    fn the_bundled_font_is_a_font() {
        assert!(register_font(FONT, FontStyle::Normal, FONT_TTF).is_ok());
    }

    #[test]
    fn a_chart_draws_the_same_bytes_twice_with_its_labels_in_the_svg() {
        let c = line();
        let svg = c.svg().expect("svg");
        for text in [
            "GPU utilisation",
            "time (h)",
            "share of GPU-time busy",
            "warm-up",
            FONT,
        ] {
            assert!(svg.contains(text), "{text}");
        }
        assert_eq!(svg, c.svg().expect("again"));
        let px = c.rgb().expect("rgb");
        assert_eq!(px, c.rgb().expect("again"));
        // Not blank: the line, the band, the text and the axes leave many colours.
        let colours: std::collections::BTreeSet<&[u8]> = px.chunks(3).collect();
        assert!(colours.len() > 20, "{}", colours.len());
    }

    #[test]
    fn bars_carry_their_categories_and_reference() {
        let c = Chart::Bars(BarChart {
            title: "Cost against the cloud".into(),
            x_label: "workload".into(),
            y_label: "network cost / cloud cost".into(),
            categories: vec!["inference".into(), "pretrain-70b".into()],
            series: vec![(
                "network".into(),
                vec![
                    Some(Bar {
                        value: 0.6,
                        interval: Some((0.5, 0.7)),
                    }),
                    None,
                ],
            )],
            reference: Some((1.0, "cloud".into())),
        });
        let svg = c.svg().expect("svg");
        for text in [
            "inference",
            "pretrain-70b",
            "cloud",
            "network cost / cloud cost",
        ] {
            assert!(svg.contains(text), "{text}");
        }
    }
}
