//! The `newsanalysis` command line: parse arguments, call into the library.

use std::{
    io::{IsTerminal, Write},
    net::SocketAddr,
    path::PathBuf,
};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use newsanalysis::{
    analysis::analyze_inline,
    article::{read_article_file, ArticleLimits, ValidArticle},
    engine::{
        ner::{self, model::NerModel},
        Engine,
    },
    eval,
    proto::v1 as pb,
    server::{ServiceLimits, StreamLimits},
    startup::{Application, Settings, Storage},
    store::Retention,
};

/// Reads news articles and turns them into entities, quotes with speakers and CAMEO events.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gRPC server (newsanalysis.v1.ArticleAnalysisService, health, reflection).
    Serve(ServeArgs),
    /// Analyze article files without a server; prints one AnalyzeResponse per file as JSON
    /// (the proto3 JSON mapping, as grpcurl prints it), one per line.
    ///
    /// A .json file is an Article in the proto3 JSON mapping; any other file is plain text whose
    /// first non-empty line is the title and the rest the body. Articles without an id take the
    /// file name without its extension.
    Analyze(AnalyzeArgs),
    /// Measure quality: precision, recall and F1 against annotated data.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Train the statistical models the engine embeds.
    #[command(subcommand)]
    Train(TrainCommand),
}

#[derive(Subcommand)]
enum TrainCommand {
    /// Train the NER tagger (structured perceptron) on CoNLL-2003 and write the model file;
    /// rebuild afterwards to embed it. Deterministic: the same data give the same file.
    Ner(TrainNerArgs),
}

#[derive(clap::Args)]
struct TrainNerArgs {
    /// Training file in CoNLL-2003 format.
    #[arg(long, default_value = "../shared/data/conll2003/eng.train")]
    train: PathBuf,
    /// Development file, for early stopping.
    #[arg(long, default_value = "../shared/data/conll2003/eng.testa")]
    dev: PathBuf,
    /// Where to write the model.
    #[arg(long, default_value = "data/ner_model.bin")]
    output: PathBuf,
}

#[derive(clap::Args)]
struct EvalNerArgs {
    /// A file in CoNLL-2003 format (IOB1 tags in the last column), e.g. eng.testa.
    #[arg(long, value_name = "FILE")]
    conll: PathBuf,
}

#[derive(Subcommand)]
enum EvalCommand {
    /// Score entities, quotes with speakers and events against NAME.gold.json files (the format
    /// of ../shared/eval); agrees with ../shared/tools/score.py.
    Gold(GoldArgs),
    /// Score the embedded NER tagger on a CoNLL-2003 file with conlleval's exact-span rule:
    /// precision, recall and F1 per type and overall, and tokens/s.
    Ner(EvalNerArgs),
}

#[derive(clap::Args)]
struct GoldArgs {
    /// Directories holding NAME.gold.json files.
    #[arg(required = true, value_name = "GOLD_DIR")]
    gold_dirs: Vec<PathBuf>,
    /// Where to look for the articles (the gold file's `doc`) besides the gold directory.
    #[arg(long = "text-dir", value_name = "DIR")]
    text_dirs: Vec<PathBuf>,
    /// Also write each AnalyzeResponse as PRED_DIR/NAME.json (what score.py reads).
    #[arg(long, value_name = "PRED_DIR")]
    write_predictions: Option<PathBuf>,
    /// Print the totals as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:50051", env = "NEWSANALYSIS_ADDR")]
    addr: SocketAddr,
    /// Keep articles and the event log in a crash-safe database in this directory (created if
    /// missing); without it everything is in memory and lost at exit.
    #[arg(long, value_name = "DIR", conflicts_with = "nats")]
    data_dir: Option<PathBuf>,
    /// Keep the event log in a JetStream stream and articles in a JetStream key-value bucket on
    /// this NATS server (started with -js), so that several replicas share one ordered log.
    #[arg(long, value_name = "URL")]
    nats: Option<String>,
    /// Ingest every file in this directory at start-up (same formats as `analyze`).
    #[arg(long, value_name = "DIR")]
    seed_dir: Option<PathBuf>,
    /// Most articles accepted in one Ingest call.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    max_batch: u32,
    /// Largest article body accepted, in bytes.
    #[arg(long, default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
    /// Largest gRPC message received or sent, in bytes.
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    max_message_bytes: usize,
    /// Messages buffered per StreamEvents subscriber before the server waits for it.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    stream_buffer: u32,
    /// A subscriber with a full buffer that is more than this many events behind the end of the
    /// log is ended with RESOURCE_EXHAUSTED (and told where to resume).
    #[arg(long, default_value_t = 10_000)]
    max_subscriber_lag: u64,
    /// Most events the event log keeps; older ones are dropped (a client asking for them gets
    /// OUT_OF_RANGE).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    retain_events: u64,
    /// Most bytes the in-memory event log keeps (approximate; the durable log is bounded by
    /// --retain-events only).
    #[arg(long, default_value_t = 512 * 1024 * 1024)]
    retain_bytes: usize,
    /// Log format. Log level comes from RUST_LOG (default: info).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
struct AnalyzeArgs {
    /// Article files to analyze.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Pretty-print the JSON (one object per file, indented).
    #[arg(long)]
    pretty: bool,
    /// How span offsets are counted.
    #[arg(long, value_enum, default_value_t = Offsets::Utf32)]
    offsets: Offsets,
}

#[derive(Clone, Copy, ValueEnum)]
enum Offsets {
    /// UTF-8 bytes.
    Utf8,
    /// UTF-16 code units.
    Utf16,
    /// Unicode code points.
    Utf32,
}

impl From<Offsets> for pb::EncodingType {
    fn from(offsets: Offsets) -> Self {
        match offsets {
            Offsets::Utf8 => pb::EncodingType::Utf8,
            Offsets::Utf16 => pb::EncodingType::Utf16,
            Offsets::Utf32 => pb::EncodingType::Utf32,
        }
    }
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve(args) => serve(args),
        Command::Analyze(args) => analyze(args),
        Command::Eval(EvalCommand::Gold(args)) => eval_gold(args),
        Command::Eval(EvalCommand::Ner(args)) => eval_ner(args),
        Command::Train(TrainCommand::Ner(args)) => train_ner(args),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_tracing(args.log_format);
    let settings = Settings {
        addr: args.addr,
        limits: ServiceLimits {
            max_batch: args.max_batch as usize,
            article: ArticleLimits {
                max_body_bytes: args.max_body_bytes,
            },
            stream: StreamLimits {
                buffer: args.stream_buffer as usize,
                max_lag: args.max_subscriber_lag,
            },
        },
        max_message_bytes: args.max_message_bytes,
        seed_dir: args.seed_dir,
        retention: Retention {
            max_events: usize::try_from(args.retain_events).unwrap_or(usize::MAX),
            max_bytes: args.retain_bytes,
        },
        storage: match (args.data_dir, args.nats) {
            (Some(dir), _) => Storage::Durable(dir),
            (None, Some(url)) => Storage::Nats(url),
            (None, None) => Storage::Memory,
        },
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let app = Application::build(settings).await?;
        let shutdown = app.shutdown_token();
        tokio::spawn(async move {
            wait_for_signal().await;
            shutdown.cancel();
        });
        app.run().await?;
        Ok(())
    })
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("signal received");
}

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn analyze(args: AnalyzeArgs) -> anyhow::Result<()> {
    let engine = Engine::new()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in &args.files {
        let article = read_article_file(path)?;
        let valid = ValidArticle::parse(article, &ArticleLimits::default())
            .with_context(|| format!("{} is not a valid article", path.display()))?;
        let response =
            pb::AnalyzeResponse::new(analyze_inline(&engine, valid, args.offsets.into()));
        if args.pretty {
            serde_json::to_writer_pretty(&mut out, &response)?;
        } else {
            serde_json::to_writer(&mut out, &response)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn eval_gold(args: GoldArgs) -> anyhow::Result<()> {
    let engine = Engine::new()?;
    let cases = eval::load_cases(&args.gold_dirs, &args.text_dirs)?;
    anyhow::ensure!(
        !cases.is_empty(),
        "no *.gold.json files in {:?}",
        args.gold_dirs
    );
    if let Some(dir) = &args.write_predictions {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut total = eval::Scores::default();
    for case in &cases {
        let analysis = eval::analyze_case(&engine, case)?;
        let scores = eval::score(&case.gold, &analysis);
        if !args.json {
            println!(
                "{:<40} entities F1 {:.3}  quote+speaker F1 {:.3}  events F1 {:.3}",
                case.name,
                scores.entities.f1(),
                scores.quote_speaker().f1(),
                scores.events.f1()
            );
        }
        total.add(&scores);
        if let Some(dir) = &args.write_predictions {
            let path = dir.join(format!("{}.json", case.name));
            let response = pb::AnalyzeResponse::new(analysis);
            std::fs::write(&path, serde_json::to_vec(&response)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    if args.json {
        let summary = serde_json::json!({
            "documents": cases.len(),
            "entity_f1": total.entities.f1(),
            "quote_f1": total.quotes.f1(),
            "speaker_acc": total.speaker_accuracy(),
            "quote_speaker_f1": total.quote_speaker().f1(),
            "event_f1": total.events.f1(),
        });
        println!("{summary}");
    } else {
        println!("\n{} documents\n{total}", cases.len());
    }
    Ok(())
}

fn eval_ner(args: EvalNerArgs) -> anyhow::Result<()> {
    let model = NerModel::shared().map_err(|e| anyhow::anyhow!("loading the NER model: {e}"))?;
    let report = ner::conll::evaluate(model, &args.conll)?;
    println!("{report}");
    Ok(())
}

fn train_ner(args: TrainNerArgs) -> anyhow::Result<()> {
    let options = ner::train::TrainOptions {
        output: args.output,
        verbose: true,
        ..Default::default()
    };
    let report = ner::train::train(&args.train, &args.dev, &options)?;
    println!("{report}");
    Ok(())
}
