//! Parse throughput per format, on generated traffic held in memory.
//!
//! Measures the parse stage alone (bytes already decoded), one chunk at a
//! time on one thread, so the numbers compare directly with decompression
//! speed. `benches/compare.sh` measures whole commands against other tools.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use breachscope::decode::{CHUNK_SIZE, split_lines};
use breachscope::frame::Dictionary;
use breachscope::generate::{self, GenerateConfig, traffic, write};
use breachscope::parse::{self, FieldMap, Format, ParseContext};
use breachscope::time::{Window, Zone};

/// About `target` bytes of lines made by `line` from generated requests.
/// With `api_only`, only requests the gateway logs are kept.
fn sample(target: usize, api_only: bool, line: fn(&generate::Request, &mut String)) -> Vec<u8> {
    let cfg = GenerateConfig {
        size: 400 << 20,
        customers: 5_000,
        ..GenerateConfig::default()
    };
    let sc = generate::scenario(&cfg).expect("scenario");
    let day = sc.start_day * 86_400 * 1_000_000_000 + 9 * 3_600 * 1_000_000_000;
    let mut out = String::with_capacity(target + 4096);
    let mut window = 0u64;
    while out.len() < target {
        let start = day + window as i64 * 600_000_000_000;
        let mut reqs = traffic::requests(&sc, window, start, start + 600_000_000_000);
        reqs.sort_by_key(|r| r.ts);
        for r in reqs.iter().filter(|r| r.to_gateway || !api_only) {
            line(r, &mut out);
        }
        window += 1;
    }
    out.into_bytes()
}

fn bench_format(
    c: &mut Criterion,
    name: &str,
    format: Format,
    data: &[u8],
    mapping: Option<&FieldMap>,
) {
    let ctx = ParseContext {
        window: Window::default(),
        zone: Zone::Utc,
        dict: Dictionary::global(),
    };
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    group.bench_with_input(BenchmarkId::from_parameter(name), data, |b, data| {
        b.iter(|| {
            let mut rows = 0;
            for chunk in split_lines(data, CHUNK_SIZE) {
                rows += parse::parse_lines(format, mapping, chunk, false, &ctx)
                    .columns
                    .rows;
            }
            rows
        });
    });
    group.finish();
}

fn parse_benches(c: &mut Criterion) {
    let combined = sample(32 << 20, false, write::combined_line);
    bench_format(c, "combined", Format::Combined, &combined, None);

    let gateway = sample(32 << 20, true, write::gateway_line);
    let map = match parse::detect(&gateway[..256 << 10], false, None, None) {
        parse::Detection::Parse {
            mapping: Some(map), ..
        } => map,
        other => panic!("gateway sample not detected as JSON lines: {other:?}"),
    };
    bench_format(c, "jsonl-gateway", Format::JsonLines, &gateway, Some(&map));

    let nginx = sample(32 << 20, false, write::nginx_json_line);
    let map = match parse::detect(&nginx[..256 << 10], false, None, None) {
        parse::Detection::Parse {
            mapping: Some(map), ..
        } => map,
        other => panic!("nginx JSON sample not detected: {other:?}"),
    };
    bench_format(c, "jsonl-nginx", Format::JsonLines, &nginx, Some(&map));

    let cloudtrail = cloudtrail_lines(16 << 20);
    bench_format(c, "cloudtrail-lines", Format::CloudTrail, &cloudtrail, None);
}

/// CloudTrail records one per line, from the generated account's activity.
fn cloudtrail_lines(target: usize) -> Vec<u8> {
    let record = br#"{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLEROLE:i-0a1b2c3d4e5f60718","arn":"arn:aws:sts::123456789012:assumed-role/api-backend-role/i-0a1b2c3d4e5f60718","accountId":"123456789012","accessKeyId":"ASIAEXAMPLEKEY0001","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::123456789012:role/api-backend-role","userName":"api-backend-role"},"attributes":{"mfaAuthenticated":"false"},"ec2RoleDelivery":"2.0"}},"eventTime":"2026-03-09T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"10.0.1.25","userAgent":"aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.6","requestParameters":{"bucketName":"nw-statements","key":"statements/2026-03-09/stmt-100042.pdf"},"responseElements":null,"additionalEventData":{"bytesTransferredOut":51234},"requestID":"0F1E2D3C4B5A6978","eventID":"0f1e2d3c-4b5a-4000-8000-69780f1e2d3c","readOnly":true,"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"123456789012"}"#;
    let mut out = Vec::with_capacity(target + record.len());
    while out.len() < target {
        out.extend_from_slice(record);
        out.push(b'\n');
    }
    out
}

criterion_group!(benches, parse_benches);
criterion_main!(benches);
