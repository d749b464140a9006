//! Unit tests of `suite::template`.

use super::*;
use serde_json::json;

fn vars(v: Value) -> Vars {
    serde_json::from_value(v).unwrap()
}

#[test]
fn renders_variables_conditionals_loops_and_filters() {
    let t = Templates::new();
    let v = vars(json!({"name": "Ada", "items": ["a", "b"], "formal": "yes"}));
    assert_eq!(t.render("Hi {{ name }}!", &v).unwrap(), "Hi Ada!");
    assert_eq!(
        t.render(
            "{% if formal == 'yes' %}Dear{% else %}Hey{% endif %} {{ name | upper }}",
            &v
        )
        .unwrap(),
        "Dear ADA"
    );
    assert_eq!(
        t.render("{% for i in items %}{{ i }};{% endfor %}", &v)
            .unwrap(),
        "a;b;"
    );
    assert_eq!(t.render("no template\n", &v).unwrap(), "no template\n");
}

#[test]
fn undefined_variables_are_named() {
    let t = Templates::new();
    let v = vars(json!({"name": "Ada"}));
    assert_eq!(
        t.render("{{ name }} {{ city }}", &v),
        Err(TemplateError::Unknown("city".into()))
    );
    assert!(matches!(
        t.render("{{ name ", &v),
        Err(TemplateError::Invalid(_))
    ));
}

#[test]
fn list_values_expand_to_the_cross_product() {
    let lists = vec![
        ("lang".to_string(), vec!["de".to_string(), "fr".to_string()]),
        ("tone".to_string(), vec!["formal".to_string()]),
    ];
    let out = cross_product(&lists);
    let ids: Vec<&str> = out.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(ids, ["[lang=de,tone=formal]", "[lang=fr,tone=formal]"]);
    assert_eq!(out[1].1["lang"], json!("fr"));
    assert_eq!(cross_product(&[]), vec![(String::new(), Vars::new())]);
}
