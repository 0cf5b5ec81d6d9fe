//! Searching registries: Docker Hub's `/v1/search` where a registry offers it,
//! else the v2 `_catalog` (paginated, bounded) with each match's tags as its
//! description. Pure client work; the API adds local images.

use super::client::RegistryClient;
use super::error::RegistryError;
use berth_types::SearchResult;

/// At most this many catalog pages and tag lists are read per search.
const MAX_CATALOG_PAGES: usize = 20;
const MAX_TAG_LOOKUPS: usize = 25;

/// Repositories of the registry behind `client` whose name contains `term`.
pub async fn search(
    client: &RegistryClient,
    term: &str,
    limit: usize,
) -> Result<Vec<SearchResult>, RegistryError> {
    let host = client.host().to_string();
    let q: String = form_urlencoded::byte_serialize(term.as_bytes()).collect();
    if let Some((v, _)) = client
        .get_json(&format!("/v1/search?q={q}&n={limit}"))
        .await?
    {
        if let Some(results) = v["results"].as_array() {
            return Ok(results
                .iter()
                .filter_map(|r| serde_json::from_value::<SearchResult>(r.clone()).ok())
                .map(|mut r| {
                    r.name = format!("{host}/{}", r.name);
                    r
                })
                .take(limit)
                .collect());
        }
    }
    let mut names = Vec::new();
    let mut path = Some("/v2/_catalog?n=100".to_string());
    for _ in 0..MAX_CATALOG_PAGES {
        let Some(p) = path.take() else { break };
        let Some((v, link)) = client.get_json(&p).await? else {
            break;
        };
        names.extend(
            v["repositories"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str().map(str::to_string)),
        );
        // `Link: </v2/_catalog?last=x&n=100>; rel="next"`
        path = link.and_then(|l| {
            l.split(';')
                .next()
                .map(|u| u.trim().trim_matches(['<', '>']).to_string())
        });
    }
    let term = term.to_lowercase();
    let mut out = Vec::new();
    for name in names.into_iter().filter(|n| n.contains(&term)).take(limit) {
        let description = if out.len() < MAX_TAG_LOOKUPS {
            match client.get_json(&format!("/v2/{name}/tags/list")).await? {
                Some((v, _)) => {
                    let mut tags: Vec<&str> = v["tags"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|t| t.as_str())
                        .collect();
                    tags.sort_unstable();
                    if tags.is_empty() {
                        String::new()
                    } else {
                        format!("tags: {}", tags.join(", "))
                    }
                }
                None => String::new(),
            }
        } else {
            String::new()
        };
        out.push(SearchResult {
            name: format!("{host}/{name}"),
            description,
            star_count: 0,
            is_official: false,
            is_automated: false,
        });
    }
    Ok(out)
}
