//! The dashboard's long lists, filtered, sorted and cut into pages on the
//! server (`GET /berth/containers`, `GET /berth/images`): the browser gets
//! one page of rows however many objects there are, and asks for a single
//! row again (`id=`) when an event says it changed.

use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::State;
use crate::auth::Principal;
use axum::Json;
use berth_types::{ImageRow, ListPage};
use serde_json::Value;
use std::cmp::Ordering;

/// A page of a list as asked for.
struct PageQuery {
    /// Lower-cased text to look for; empty for all.
    q: String,
    sort: String,
    desc: bool,
    offset: usize,
    limit: usize,
}

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

fn page_query(p: &Params, sorts: &[&str], default_sort: &str) -> ApiResult<PageQuery> {
    let sort = p.value("sort").unwrap_or(default_sort).to_string();
    if !sorts.contains(&sort.as_str()) {
        return Err(ApiError::bad_request(format!(
            "unknown sort {sort:?}: want one of {}",
            sorts.join(", ")
        )));
    }
    let desc = match p
        .value("order")
        .unwrap_or(if sort == "created" { "desc" } else { "asc" })
    {
        "asc" => false,
        "desc" => true,
        o => {
            return Err(ApiError::bad_request(format!(
                "unknown order {o:?}: want asc or desc"
            )))
        }
    };
    let number = |key: &str, default: usize| -> ApiResult<usize> {
        p.value(key).map_or(Ok(default), |v| {
            v.parse::<usize>().map_err(|_| {
                ApiError::bad_request(format!("invalid {key} {v:?}: want a whole number"))
            })
        })
    };
    Ok(PageQuery {
        q: p.value("q").unwrap_or("").trim().to_lowercase(),
        sort,
        desc,
        offset: number("offset", 0)?,
        limit: number("limit", DEFAULT_LIMIT)?.clamp(1, MAX_LIMIT),
    })
}

/// Sorts `rows` by `key` (ties by `tie`), in the asked order, and cuts the page.
fn page_of<T>(
    mut rows: Vec<T>,
    total: usize,
    pq: &PageQuery,
    key: impl Fn(&T, &T) -> Ordering,
    tie: impl Fn(&T, &T) -> Ordering,
) -> ListPage<T> {
    rows.sort_by(|a, b| {
        let o = key(a, b).then_with(|| tie(a, b));
        if pq.desc {
            o.reverse()
        } else {
            o
        }
    });
    let matched = rows.len();
    let items = rows.into_iter().skip(pq.offset).take(pq.limit).collect();
    ListPage {
        total,
        matched,
        offset: pq.offset,
        items,
    }
}

/// `GET /berth/containers?q=&state=&sort=name|state|image|created&order=&offset=&limit=&id=`:
/// containers in Docker's list shape, a page at a time.
pub async fn containers(
    state: State,
    who: Principal,
    p: Params,
) -> ApiResult<Json<ListPage<Value>>> {
    let pq = page_query(&p, &["name", "state", "image", "created"], "created")?;
    let visible = super::ownership::visible(&state, &who, "container").await?;
    let want_state = p.value("state").filter(|s| !s.is_empty());
    let want_id = p.value("id").filter(|s| !s.is_empty());
    let all: Vec<_> = state
        .containers
        .store
        .list()
        .into_iter()
        .filter(|c| super::ownership::sees(&visible, &c.id))
        .collect();
    let total = all.len();
    let rows: Vec<_> = all
        .into_iter()
        .filter(|c| want_id.is_none_or(|id| c.id == id))
        .filter(|c| want_state.is_none_or(|s| c.state.status.as_str() == s))
        .filter(|c| {
            pq.q.is_empty()
                || c.name.to_lowercase().contains(&pq.q)
                || c.config.image.to_lowercase().contains(&pq.q)
                || c.id.starts_with(&pq.q)
        })
        .collect();
    let page = page_of(
        rows,
        total,
        &pq,
        |a, b| match pq.sort.as_str() {
            "name" => a.name.cmp(&b.name),
            "state" => a.state.status.as_str().cmp(b.state.status.as_str()),
            "image" => a.config.image.cmp(&b.config.image),
            _ => a.created.cmp(&b.created),
        },
        |a, b| a.name.cmp(&b.name),
    );
    let networks = &state.containers.networks;
    Ok(Json(ListPage {
        total: page.total,
        matched: page.matched,
        offset: page.offset,
        items: page
            .items
            .iter()
            .map(|c| super::containers::summary(c, networks))
            .collect(),
    }))
}

/// `GET /berth/images?q=&sort=repository|tag|created|size&order=&offset=&limit=`:
/// one row per tag (untagged images once, as `<none>`), a page at a time.
pub async fn images(
    state: State,
    who: Principal,
    p: Params,
) -> ApiResult<Json<ListPage<ImageRow>>> {
    let pq = page_query(&p, &["repository", "tag", "created", "size"], "created")?;
    let visible = super::ownership::visible(&state, &who, "image").await?;
    let mut all = Vec::new();
    for rec in state.images.list() {
        let id = rec.id.to_string();
        if !super::ownership::sees(&visible, &id) {
            continue;
        }
        let s = super::images::summary(&rec);
        let tags: Vec<(String, String)> = if s.repo_tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            s.repo_tags.iter().map(|t| split_tag(t)).collect()
        };
        for (repository, tag) in tags {
            all.push(ImageRow {
                repository,
                tag,
                id: id.clone(),
                created: s.created,
                size: s.size,
            });
        }
    }
    let total = all.len();
    let rows: Vec<ImageRow> = all
        .into_iter()
        .filter(|r| {
            pq.q.is_empty()
                || r.repository.to_lowercase().contains(&pq.q)
                || r.tag.to_lowercase().contains(&pq.q)
                || r.id.trim_start_matches("sha256:").starts_with(&pq.q)
        })
        .collect();
    Ok(Json(page_of(
        rows,
        total,
        &pq,
        |a, b| match pq.sort.as_str() {
            "repository" => a.repository.cmp(&b.repository),
            "tag" => a.tag.cmp(&b.tag),
            "size" => a.size.cmp(&b.size),
            _ => a.created.cmp(&b.created),
        },
        |a, b| (&a.repository, &a.tag).cmp(&(&b.repository, &b.tag)),
    )))
}

/// `registry:5000/a/b:tag` → (`registry:5000/a/b`, `tag`).
fn split_tag(t: &str) -> (String, String) {
    let slash = t.rfind('/').map_or(0, |i| i + 1);
    match t[slash..].rfind(':') {
        Some(i) => (t[..slash + i].to_string(), t[slash + i + 1..].to_string()),
        None => (t.to_string(), "<none>".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_split_after_the_last_slash() {
        assert_eq!(
            split_tag("localhost:5000/a/b:1"),
            ("localhost:5000/a/b".into(), "1".into())
        );
        assert_eq!(
            split_tag("localhost:5000/a"),
            ("localhost:5000/a".into(), "<none>".into())
        );
    }

    #[test]
    fn pages_sort_then_cut() {
        let pq = PageQuery {
            q: String::new(),
            sort: "n".into(),
            desc: true,
            offset: 1,
            limit: 2,
        };
        let p = page_of(
            vec![3, 1, 4, 1, 5],
            9,
            &pq,
            |a, b| a.cmp(b),
            |_, _| Ordering::Equal,
        );
        assert_eq!((p.total, p.matched, p.items), (9, 5, vec![4, 3]));
    }
}
