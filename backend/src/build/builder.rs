//! The classic builder: runs a parsed Dockerfile over a build context,
//! stage by stage, printing Docker's `Step N/M : …` lines. Each step makes
//! an image: RUN runs a container and commits its changes, COPY and ADD
//! write a layer from the context (or another stage or image), the other
//! instructions only change the configuration (an empty layer in the
//! history). A step is taken from the cache when the same step was made on
//! the same parent before.

use super::cache::{self, Cache};
use super::context::{self, LayerWriter, Owner};
use super::dockerfile::{self, Instruction};
use crate::container::{CreateRequest, Supervisor};
use crate::image::commit::{Base, Step};
use crate::image::oci::ImageConfig;
use crate::image::{Digest, ImageStore, Reference};
use berth_types::JsonMessage;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::mpsc::Sender;

/// Fetches an image FROM names that is not here (a registry pull), passing
/// its progress lines on.
pub type Puller = Arc<
    dyn Fn(
            Reference,
            Sender<JsonMessage>,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>
        + Send
        + Sync,
>;

/// Which images a build may use, by id.
pub type ImageFilter = Arc<dyn Fn(&crate::image::Digest) -> bool + Send + Sync>;

#[derive(Clone, Default)]
pub struct BuildOptions {
    /// The Dockerfile's path in the context.
    pub dockerfile: String,
    pub tags: Vec<Reference>,
    pub build_args: HashMap<String, String>,
    pub no_cache: bool,
    pub target: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// How a missing FROM image is pulled; refused without one.
    pub pull: Option<Puller>,
    /// Which local images the build may use (its team's and the host's);
    /// `None`: all of them.
    pub visible: Option<ImageFilter>,
}

pub struct Builder {
    pub sup: Arc<Supervisor>,
    pub images: Arc<ImageStore>,
    pub cache: Arc<Cache>,
    out: Sender<JsonMessage>,
    /// The unpacked context.
    context: PathBuf,
    /// Scratch space of this build (layers being written, mounts).
    work: PathBuf,
    escape: char,
    opts: BuildOptions,
    /// Build args some ARG asked for.
    used_args: std::collections::HashSet<String>,
}

/// One stage (`FROM … AS name`) as it goes.
struct Stage {
    name: Option<String>,
    base: Base,
    /// ARGs declared in this stage, with their values.
    args: Vec<(String, String)>,
    /// CMD set in this stage (an ENTRYPOINT then keeps it).
    cmd_set: bool,
}

impl Stage {
    fn id(&self) -> Option<&Digest> {
        self.base.id.as_ref()
    }

    /// Variables for substitution: ARGs, then ENV over them.
    fn vars(&self) -> HashMap<String, String> {
        let mut v: HashMap<String, String> = self.args.iter().cloned().collect();
        for e in self.base.config.config.env.iter().flatten() {
            if let Some((k, val)) = e.split_once('=') {
                v.insert(k.to_string(), val.to_string());
            }
        }
        v
    }

    fn shell(&self) -> Vec<String> {
        self.base
            .config
            .config
            .shell
            .clone()
            .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
    }
}

fn short(id: &Digest) -> String {
    id.to_string()
        .trim_start_matches("sha256:")
        .chars()
        .take(12)
        .collect()
}

impl Builder {
    pub fn new(
        sup: Arc<Supervisor>,
        cache: Arc<Cache>,
        out: Sender<JsonMessage>,
        context: PathBuf,
        work: PathBuf,
        opts: BuildOptions,
    ) -> Self {
        Self {
            images: sup.images.clone(),
            sup,
            cache,
            out,
            context,
            work,
            escape: '\\',
            opts,
            used_args: Default::default(),
        }
    }

    async fn say(&self, text: impl Into<String>) {
        let _ = self.out.send(JsonMessage::stream(text)).await;
    }

    /// Runs the build; the id of the image made.
    pub async fn run(mut self) -> Result<Digest, String> {
        let name = self.opts.dockerfile.clone();
        let path = context::inside(&self.context, &name)?;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("Cannot locate specified Dockerfile: {name} ({e})"))?;
        let df = dockerfile::parse(&name, &text)?;
        self.escape = df.escape;
        if !df.instructions.iter().any(|i| i.cmd == "FROM") {
            return Err(format!(
                "{name}: no FROM instruction: a Dockerfile starts from an image"
            ));
        }
        let total = df.instructions.len();
        let mut global_args: Vec<(String, String)> = Vec::new();
        let mut stages: Vec<Stage> = Vec::new();
        let mut done_target = false;
        for (n, ins) in df.instructions.iter().enumerate() {
            if done_target && ins.cmd != "FROM" {
                continue;
            }
            // A new stage after the --target one: the build is done.
            let target_done = self.opts.target.is_some()
                && stages.last().is_some_and(|s| s.name == self.opts.target);
            if ins.cmd == "FROM" && (done_target || target_done) {
                done_target = true;
                continue;
            }
            self.say(format!("Step {}/{} : {}\n", n + 1, total, ins.original()))
                .await;
            let at = |e: String| format!("{name}:{}: {e}", ins.line);
            if ins.cmd == "FROM" {
                let stage = self.from(ins, &global_args, &stages).await.map_err(at)?;
                stages.push(stage);
                continue;
            }
            // The current stage, and the earlier ones COPY --from may name.
            let Some((stage, earlier)) = stages.split_last_mut() else {
                if ins.cmd == "ARG" {
                    for (k, v) in self.declare_arg(ins, &HashMap::new()).map_err(at)? {
                        global_args.retain(|(g, _)| *g != k);
                        global_args.push((k, v));
                    }
                    continue;
                }
                return Err(at(format!("{} before the first FROM", ins.cmd)));
            };
            self.step(stage, ins, earlier, &global_args)
                .await
                .map_err(at)?;
        }
        let mut last = stages.pop().ok_or("no stage was built")?;
        if let Some(t) = &self.opts.target {
            if last.name.as_deref() != Some(t.as_str()) {
                return Err(format!("failed to reach build target {t} in Dockerfile"));
            }
        }
        if !self.opts.labels.is_empty() {
            let mut cfg = last.base.config.clone();
            let labels = cfg.config.labels.get_or_insert_with(Default::default);
            labels.extend(self.opts.labels.clone());
            let text = self
                .opts
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect::<Vec<_>>()
                .join(" ");
            self.config_step(&mut last, cfg, &format!("LABEL {text}"), &[])
                .await?;
        }
        let unused: Vec<&String> = self
            .opts
            .build_args
            .keys()
            .filter(|k| !self.used_args.contains(*k))
            .collect();
        if !unused.is_empty() {
            let mut names: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
            names.sort();
            self.say(format!(
                "[Warning] One or more build-args [{}] were not consumed\n",
                names.join(" ")
            ))
            .await;
        }
        let id = match last.id() {
            Some(id) => id.clone(),
            None => {
                // `FROM scratch` and nothing else: an empty image.
                let cfg = last.base.config.clone();
                self.config_step(&mut last, cfg, "", &[]).await?;
                last.id().cloned().ok_or("no image was made")?
            }
        };
        let _ = self
            .out
            .send(JsonMessage {
                aux: Some(json!({"ID": id.to_string()})),
                ..JsonMessage::default()
            })
            .await;
        self.say(format!("Successfully built {}\n", short(&id)))
            .await;
        for t in self.opts.tags.clone() {
            let images = self.images.clone();
            let (src, tag) = (id.to_string(), t.clone());
            tokio::task::spawn_blocking(move || images.tag(&src, tag))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            self.say(format!("Successfully tagged {}\n", t.familiar()))
                .await;
        }
        Ok(id)
    }

    fn declare_arg(
        &mut self,
        ins: &Instruction,
        vars: &HashMap<String, String>,
    ) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for w in dockerfile::words(&ins.rest, self.escape) {
            let (k, default) = match w.split_once('=') {
                Some((k, v)) => (
                    k.to_string(),
                    Some(dockerfile::substitute(v, vars, self.escape)?),
                ),
                None => (w.clone(), None),
            };
            let v = match self.opts.build_args.get(&k) {
                Some(v) => {
                    self.used_args.insert(k.clone());
                    v.clone()
                }
                None => default.unwrap_or_default(),
            };
            out.push((k, v));
        }
        Ok(out)
    }

    async fn from(
        &mut self,
        ins: &Instruction,
        global_args: &[(String, String)],
        stages: &[Stage],
    ) -> Result<Stage, String> {
        let vars: HashMap<String, String> = global_args.iter().cloned().collect();
        let rest = dockerfile::substitute(&ins.rest, &vars, self.escape)?;
        let w = dockerfile::words(&rest, self.escape);
        let (image, name) = match w.as_slice() {
            [i] => (i.clone(), None),
            [i, as_, n] if as_.eq_ignore_ascii_case("as") => (i.clone(), Some(n.to_lowercase())),
            _ => {
                return Err(format!(
                    "FROM takes an image and an optional AS name, not {rest:?}"
                ))
            }
        };
        let base = if image == "scratch" {
            Base::scratch()
        } else if let Some(s) = stages
            .iter()
            .find(|s| s.name.as_deref() == Some(image.as_str()))
        {
            s.base.clone()
        } else {
            let rec = match self.local_image(&image).await? {
                Some(rec) => rec,
                None => {
                    let reference = Reference::parse(&image)
                        .map_err(|e| format!("FROM {image}: {e}"))?
                        .with_default_tag();
                    let pull = self.opts.pull.clone().ok_or_else(|| {
                        format!("No such image: {image}: pull it first (berth pull {image})")
                    })?;
                    pull(reference.clone(), self.out.clone()).await?;
                    self.local_image(&reference.to_string())
                        .await?
                        .ok_or_else(|| format!("No such image: {image}"))?
                }
            };
            Base::of(&rec)
        };
        if let Some(id) = &base.id {
            self.say(format!(" ---> {}\n", short(id))).await;
        }
        let mut stage = Stage {
            name,
            base,
            args: Vec::new(),
            cmd_set: false,
        };
        let triggers = stage.base.config.config.on_build.take().unwrap_or_default();
        if !triggers.is_empty() {
            self.say(format!(
                "# Executing {} build trigger{}\n",
                triggers.len(),
                if triggers.len() == 1 { "" } else { "s" }
            ))
            .await;
            for t in triggers {
                let parsed = dockerfile::parse("ONBUILD", &t)?;
                for ti in &parsed.instructions {
                    self.step(&mut stage, ti, stages, global_args).await?;
                }
            }
        }
        Ok(stage)
    }

    /// The local image `name`, if there is one.
    async fn local_image(&self, name: &str) -> Result<Option<crate::image::ImageRecord>, String> {
        let images = self.images.clone();
        let n = name.to_string();
        let got = tokio::task::spawn_blocking(move || images.get(&n))
            .await
            .map_err(|e| e.to_string())?;
        match got {
            Ok(rec) if !self.may_use(&rec.id) => Err(format!("No such image: {name}")),
            got => Ok(got.ok()),
        }
    }

    fn may_use(&self, id: &crate::image::Digest) -> bool {
        self.opts.visible.as_ref().is_none_or(|v| v(id))
    }

    /// One instruction of a stage.
    async fn step(
        &mut self,
        stage: &mut Stage,
        ins: &Instruction,
        stages: &[Stage],
        global_args: &[(String, String)],
    ) -> Result<(), String> {
        let vars = stage.vars();
        let escape = self.escape;
        let sub = |s: &str| dockerfile::substitute(s, &vars, escape);
        let mut cfg: ImageConfig = stage.base.config.clone();
        let c = &mut cfg.config;
        let exec_or_shell = |stage: &Stage| -> Vec<String> {
            ins.json.clone().unwrap_or_else(|| {
                let mut v = stage.shell();
                v.push(ins.rest.clone());
                v
            })
        };
        match ins.cmd.as_str() {
            "RUN" => return self.run_step(stage, ins).await,
            "COPY" | "ADD" => return self.copy_step(stage, ins, stages).await,
            "ARG" => {
                let mut known: HashMap<String, String> = global_args.iter().cloned().collect();
                known.extend(vars.clone());
                let decl = self.declare_arg(ins, &known)?;
                for (k, v) in decl {
                    // `ARG NAME` in a stage takes the global default.
                    let v = if v.is_empty() {
                        global_args
                            .iter()
                            .find(|(g, _)| *g == k)
                            .map(|(_, gv)| gv.clone())
                            .unwrap_or(v)
                    } else {
                        v
                    };
                    stage.args.retain(|(a, _)| *a != k);
                    stage.args.push((k, v));
                }
            }
            "ENV" => {
                let env = c.env.get_or_insert_with(Vec::new);
                for (k, v) in dockerfile::pairs(&ins.rest, self.escape, "ENV")? {
                    let v = sub(&v)?;
                    env.retain(|e| e.split('=').next() != Some(k.as_str()));
                    env.push(format!("{k}={v}"));
                }
            }
            "LABEL" => {
                let labels = c.labels.get_or_insert_with(Default::default);
                for (k, v) in dockerfile::pairs(&ins.rest, self.escape, "LABEL")? {
                    labels.insert(sub(&k)?, sub(&v)?);
                }
            }
            "MAINTAINER" => cfg.author = Some(ins.rest.clone()),
            "CMD" => {
                c.cmd = Some(exec_or_shell(stage));
                stage.cmd_set = true;
            }
            "ENTRYPOINT" => {
                c.entrypoint = Some(exec_or_shell(stage));
                if !stage.cmd_set {
                    c.cmd = None;
                }
            }
            "EXPOSE" => {
                let ports = c.exposed_ports.get_or_insert_with(Default::default);
                for p in dockerfile::words(&sub(&ins.rest)?, self.escape) {
                    let p = if p.contains('/') { p } else { format!("{p}/tcp") };
                    ports.insert(p, json!({}));
                }
            }
            "USER" => c.user = sub(&ins.rest)?,
            "WORKDIR" => {
                let w = sub(&ins.rest)?;
                c.working_dir = if w.starts_with('/') {
                    w
                } else {
                    let base = if c.working_dir.is_empty() { "/" } else { &c.working_dir };
                    format!("{}/{w}", base.trim_end_matches('/'))
                };
            }
            "VOLUME" => {
                let list = match &ins.json {
                    Some(j) => j.clone(),
                    None => dockerfile::words(&sub(&ins.rest)?, self.escape),
                };
                let vols = c.volumes.get_or_insert_with(Default::default);
                for v in list {
                    vols.insert(v, json!({}));
                }
            }
            "STOPSIGNAL" => c.stop_signal = sub(&ins.rest)?,
            "SHELL" => {
                c.shell = Some(ins.json.clone().ok_or(
                    "SHELL requires the arguments to be in JSON form: SHELL [\"executable\", \"parameters\"]",
                )?)
            }
            "ONBUILD" => {
                let inner = ins.rest.split_whitespace().next().unwrap_or("").to_uppercase();
                if matches!(inner.as_str(), "ONBUILD" | "FROM" | "MAINTAINER") {
                    return Err(format!("{inner} isn't allowed as an ONBUILD trigger"));
                }
                c.on_build.get_or_insert_with(Vec::new).push(ins.rest.clone());
            }
            "HEALTHCHECK" => {
                c.healthcheck = Some(crate::image::changes::healthcheck(&ins.flags, &ins.rest)?)
            }
            other => return Err(format!("unknown instruction: {other}")),
        }
        let shown = match ins.cmd.as_str() {
            "RUN" | "CMD" | "ENTRYPOINT" | "SHELL" | "ONBUILD" | "HEALTHCHECK" | "MAINTAINER" => {
                ins.original()
            }
            _ => format!("{} {}", ins.cmd, sub(&ins.rest)?),
        };
        let args = env_words(&self.args_in_scope(stage));
        self.config_step(stage, cfg, &shown, &args).await
    }

    /// The ARGs in scope that ENV does not shadow: part of a RUN's
    /// environment and of every step's cache key.
    fn args_in_scope(&self, stage: &Stage) -> Vec<(String, String)> {
        let env = stage.base.config.config.env.clone().unwrap_or_default();
        stage
            .args
            .iter()
            .filter(|(k, _)| !env.iter().any(|e| e.split('=').next() == Some(k.as_str())))
            .cloned()
            .collect()
    }

    /// A step that only changes the configuration.
    async fn config_step(
        &self,
        stage: &mut Stage,
        cfg: ImageConfig,
        shown: &str,
        args: &[String],
    ) -> Result<(), String> {
        let created_by = format!("/bin/sh -c #(nop)  {shown}");
        let key = cache::key(stage.id(), &format!("{created_by}\n{}", args.join("\n")));
        if let Some(id) = self.cached(&key) {
            return self.use_image(stage, id, true).await;
        }
        let images = self.images.clone();
        let base = stage.base.clone();
        let step = Step {
            created_by,
            ..Step::default()
        };
        let made = tokio::task::spawn_blocking(move || images.add_config(&base, cfg, &step, None))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        self.cache.put(key, &made.id);
        self.use_image(stage, made.id, false).await
    }

    fn cached(&self, key: &str) -> Option<Digest> {
        if self.opts.no_cache {
            return None;
        }
        self.cache.get(&self.images, key)
    }

    /// Makes `id` the stage's current image and says so.
    async fn use_image(&self, stage: &mut Stage, id: Digest, cached: bool) -> Result<(), String> {
        let rec = self
            .images
            .get_by_id(&id)
            .ok_or_else(|| format!("image {id} vanished"))?;
        if cached {
            self.say(" ---> Using cache\n").await;
        }
        self.say(format!(" ---> {}\n", short(&id))).await;
        stage.base = Base::of(&rec);
        Ok(())
    }

    /// RUN: a container of the current image runs the command; its changes
    /// become the next image.
    async fn run_step(&mut self, stage: &mut Stage, ins: &Instruction) -> Result<(), String> {
        let cmd: Vec<String> = ins.json.clone().unwrap_or_else(|| {
            let mut v = stage.shell();
            v.push(ins.rest.clone());
            v
        });
        let arg_pairs = self.args_in_scope(stage);
        let args = env_words(&arg_pairs);
        let created_by = match &ins.json {
            Some(j) => serde_json::to_string(j).unwrap_or_default(),
            None => cmd.join(" "),
        };
        let created_by = if arg_pairs.is_empty() {
            created_by
        } else {
            format!("|{} {} {created_by}", arg_pairs.len(), args.join(" "))
        };
        let key = cache::key(stage.id(), &format!("RUN {created_by}"));
        if let Some(id) = self.cached(&key) {
            return self.use_image(stage, id, true).await;
        }
        let image = stage
            .id()
            .cloned()
            .ok_or("RUN needs an image with a program to run; this stage is FROM scratch")?;
        let mut env = stage.base.config.config.env.clone().unwrap_or_default();
        env.extend(args.iter().cloned());
        let req: CreateRequest = serde_json::from_value(json!({
            "Image": image.to_string(),
            "Cmd": cmd,
            "Entrypoint": [""],
            "Env": env,
            "User": stage.base.config.config.user,
            "WorkingDir": stage.base.config.config.working_dir,
            "AttachStdout": true,
            "AttachStderr": true,
            "HostConfig": {},
        }))
        .map_err(|e| format!("build container config: {e}"))?;
        let sup = self.sup.clone();
        let rec = self
            .images
            .get_by_id(&image)
            .ok_or("the step's image vanished")?;
        let c = tokio::task::spawn_blocking(move || {
            let (c, _, _) = crate::container::create::build(
                req,
                None,
                &rec,
                &sup.store,
                &sup.volumes,
                &sup.networks,
            )?;
            sup.store.insert(c.clone())?;
            Ok::<_, crate::container::ContainerError>(c)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        self.say(format!(" ---> Running in {}\n", &c.id[..12]))
            .await;
        let result = self.run_container(&c.id).await;
        let made = match result {
            Ok(0) => {
                let step = Step {
                    created_by,
                    ..Step::default()
                };
                self.sup
                    .commit_step(&c.id, stage.base.clone(), stage.base.config.clone(), step)
                    .await
                    .map_err(|e| e.to_string())
            }
            Ok(code) => Err(format!(
                "The command '{}' returned a non-zero code: {code}",
                cmd.join(" ")
            )),
            Err(e) => Err(e),
        };
        let _ = self.sup.remove(&c.id, true, true).await;
        let made = made?;
        self.say(format!("Removing intermediate container {}\n", &c.id[..12]))
            .await;
        self.cache.put(key, &made.id);
        self.use_image(stage, made.id, false).await
    }

    /// Starts container `id`, passes its output on, returns its exit code.
    async fn run_container(&self, id: &str) -> Result<i32, String> {
        let log = crate::container::supervisor::log_path(&self.sup.store.dir(id), id);
        let waiter = {
            let sup = self.sup.clone();
            let id = id.to_string();
            tokio::spawn(async move {
                sup.wait(&id, crate::container::supervisor::WaitCondition::NextExit)
                    .await
            })
        };
        self.sup.start(id).await.map_err(|e| e.to_string())?;
        let mut offset = 0;
        let mut waiter = waiter;
        loop {
            let done = tokio::select! {
                r = &mut waiter => Some(r),
                _ = tokio::time::sleep(std::time::Duration::from_millis(50)) => None,
            };
            let (entries, next) = crate::container::logs::read_from(&log, offset);
            offset = next;
            for e in entries {
                self.say(String::from_utf8_lossy(&e.text).into_owned())
                    .await;
            }
            if let Some(r) = done {
                return r.map_err(|e| e.to_string())?.map_err(|e| e.to_string());
            }
        }
    }

    /// COPY and ADD: files of the context (or of a stage or image with
    /// `--from`) as a new layer.
    async fn copy_step(
        &mut self,
        stage: &mut Stage,
        ins: &Instruction,
        stages: &[Stage],
    ) -> Result<(), String> {
        let vars = stage.vars();
        let mut list = match &ins.json {
            Some(j) => j.clone(),
            None => dockerfile::words(&ins.rest, self.escape),
        };
        for w in list.iter_mut() {
            *w = dockerfile::substitute(w, &vars, self.escape)?;
        }
        if list.len() < 2 {
            return Err(format!("{} requires at least two arguments", ins.cmd));
        }
        let dest_raw = list.pop().unwrap_or_default();
        let workdir = stage.base.config.config.working_dir.clone();
        let joined = if dest_raw.starts_with('/') {
            dest_raw.clone()
        } else {
            format!("{}/{dest_raw}", workdir.trim_end_matches('/'))
        };
        // `.`, `dir/.` and `dir/` name a directory to copy into.
        let into_dir = dest_raw.ends_with('/') || dest_raw == "." || dest_raw.ends_with("/.");
        let dest = clean_path(&joined) + if into_dir { "/" } else { "" };
        let from = ins.flag("from").map(str::to_string);
        if from.is_some() && ins.cmd == "ADD" {
            return Err("ADD does not take --from; use COPY --from".into());
        }
        let mount = match &from {
            None => None,
            Some(f) => Some(self.source_image(f, stages).await?),
        };
        let root = match &mount {
            None => self.context.clone(),
            Some(m) => m.root.clone(),
        };
        let owner = match ins.flag("chown") {
            None => None,
            Some(spec) => {
                let layers = self.images_layers(stage);
                let passwd = crate::container::supervisor::read_in_layers(&layers, "/etc/passwd");
                let group = crate::container::supervisor::read_in_layers(&layers, "/etc/group");
                let u = crate::runtime::user::resolve(spec, &passwd, &group)
                    .map_err(|e| format!("--chown={spec}: {e}"))?;
                Some(Owner {
                    uid: u.uid,
                    gid: u.gid,
                })
            }
        };
        let is_add = ins.cmd == "ADD";
        for s in &list {
            if is_add && (s.starts_with("http://") || s.starts_with("https://")) {
                return Err(format!(
                    "ADD {s}: Berth builds offline and does not fetch URLs; download the file into the context"
                ));
            }
        }
        let layer_path = self.work.join(format!(
            "layer-{}.tar",
            crate::container::create::random_hex()
        ));
        let (dest2, lp) = (dest.clone(), layer_path.clone());
        let srcs = list.clone();
        let hash = tokio::task::spawn_blocking(move || -> Result<String, String> {
            let mut found = Vec::new();
            for s in &srcs {
                found.extend(context::sources(&root, s)?);
            }
            let into_dir = dest2.ends_with('/') || found.len() > 1;
            let f = std::fs::File::create(&lp).map_err(|e| format!("write layer: {e}"))?;
            let mut w = LayerWriter::new(std::io::BufWriter::new(f), owner);
            for rel in &found {
                let path = root.join(rel);
                let meta = std::fs::symlink_metadata(&path).map_err(|e| format!("{rel}: {e}"))?;
                let base = Path::new(rel)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned());
                let target = match (into_dir && !meta.is_dir(), base) {
                    (true, Some(b)) => format!("{}/{b}", dest2.trim_end_matches('/')),
                    _ => dest2.clone(),
                };
                let r = if is_add && meta.is_file() && context::is_archive(&path) {
                    w.extract(&path, &dest2)
                } else {
                    w.copy(&path, &target)
                };
                r.map_err(|e| format!("copy {rel}: {e}"))?;
            }
            w.finish().map_err(|e| format!("write layer: {e}"))
        })
        .await
        .map_err(|e| e.to_string());
        drop(mount);
        let hash = hash??;
        let kind = if ins.cmd == "ADD" { "ADD" } else { "COPY" };
        let created_by = format!(
            "/bin/sh -c #(nop) {kind} {}:{hash} in {dest} ",
            if list.len() > 1 { "multi" } else { "file" }
        );
        let key = cache::key(
            stage.id(),
            &format!("{created_by}\n{:?}\n{:?}", ins.flag("chown"), from),
        );
        if let Some(id) = self.cached(&key) {
            let _ = std::fs::remove_file(&layer_path);
            return self.use_image(stage, id, true).await;
        }
        let images = self.images.clone();
        let base = stage.base.clone();
        let cfg = stage.base.config.clone();
        let step = Step {
            created_by,
            ..Step::default()
        };
        let lp = layer_path.clone();
        let made = tokio::task::spawn_blocking(move || {
            let f = std::fs::File::open(&lp).map_err(|e| e.to_string())?;
            images
                .add_layer(&base, std::io::BufReader::new(f), cfg, &step, None)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(&layer_path);
        let made = made?;
        self.cache.put(key, &made.id);
        self.use_image(stage, made.id, false).await
    }

    fn images_layers(&self, stage: &Stage) -> Vec<PathBuf> {
        stage
            .id()
            .and_then(|id| self.images.get_by_id(id))
            .map(|rec| self.images.lower_dirs(&rec))
            .unwrap_or_default()
    }

    /// The files of a stage or image for `COPY --from`, as one read-only
    /// view (an overlay of its layers while needed).
    async fn source_image(&self, from: &str, stages: &[Stage]) -> Result<Source, String> {
        let by_stage = match from.parse::<usize>() {
            Ok(i) => stages.get(i),
            Err(_) => stages
                .iter()
                .find(|s| s.name.as_deref() == Some(&from.to_lowercase())),
        };
        let id = match by_stage {
            Some(s) => s.id().cloned(),
            None => {
                let images = self.images.clone();
                let f = from.to_string();
                let rec = tokio::task::spawn_blocking(move || images.get(&f))
                    .await
                    .map_err(|e| e.to_string())?
                    .ok()
                    .filter(|rec| self.may_use(&rec.id))
                    .ok_or_else(|| format!("--from={from}: no stage or image of that name"))?;
                Some(rec.id)
            }
        };
        let layers = id
            .and_then(|id| self.images.get_by_id(&id))
            .map(|rec| self.images.lower_dirs(&rec))
            .unwrap_or_default();
        Source::open(&self.work, layers)
    }
}

/// `/a/./b/../c` → `/a/c` (never above `/`).
fn clean_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `K=V` words of name/value pairs.
fn env_words(pairs: &[(String, String)]) -> Vec<String> {
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// A read-only view of an image's files.
struct Source {
    root: PathBuf,
    mounted: bool,
}

impl Source {
    fn open(work: &Path, layers: Vec<PathBuf>) -> Result<Self, String> {
        match layers.len() {
            0 => {
                let root = work.join(format!("empty-{}", crate::container::create::random_hex()));
                std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
                Ok(Self {
                    root,
                    mounted: false,
                })
            }
            1 => Ok(Self {
                root: layers[0].clone(),
                mounted: false,
            }),
            _ => {
                let root = work.join(format!("from-{}", crate::container::create::random_hex()));
                std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
                let lower: Vec<String> = layers.iter().map(|l| l.display().to_string()).collect();
                nix::mount::mount(
                    Some("overlay"),
                    &root,
                    Some("overlay"),
                    nix::mount::MsFlags::MS_RDONLY,
                    Some(format!("lowerdir={}", lower.join(":")).as_str()),
                )
                .map_err(|e| format!("mount the image for COPY --from: {e}"))?;
                Ok(Self {
                    root,
                    mounted: true,
                })
            }
        }
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        if self.mounted {
            let _ = nix::mount::umount2(&self.root, nix::mount::MntFlags::MNT_DETACH);
            let _ = std::fs::remove_dir(&self.root);
        }
    }
}
