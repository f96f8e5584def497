using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeSigner.Testing;

/// <summary>
/// A KMS-compatible server on loopback that speaks what the AWS SDK sends: the JSON 1.1 protocol
/// (<c>X-Amz-Target: TrentService.Sign</c> / <c>TrentService.GetPublicKey</c>), errors as <c>__type</c> bodies.
/// It holds real P-256 keys and signs with them, so its signatures verify; it counts every call.
/// </summary>
public sealed class FakeKmsServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ECDsa> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<KmsCall> _calls = new();
    private WebApplication? _app;

    public sealed record KmsCall(string Operation, string KeyId, string? MessageType, string? SigningAlgorithm, int MessageLength)
    {
        public DateTimeOffset At { get; init; } = DateTimeOffset.UtcNow;

        /// <summary>What the server answered: <c>ok</c> or the injected fault.</summary>
        public string Result { get; set; } = "ok";
    }

    /// <summary>The faults the server can inject into Sign calls of one key.</summary>
    public enum Fault
    {
        Throttle,
        InternalError,
        Hang,
        Disabled,
    }

    private sealed class FaultPlan(Fault fault, int remaining)
    {
        public Fault Fault { get; } = fault;
        public int Remaining = remaining;
    }

    private readonly ConcurrentDictionary<string, FaultPlan> _faults = new(StringComparer.Ordinal);

    /// <summary>Makes the next <paramref name="count"/> Sign calls of a key fail with <paramref name="fault"/> (-1: until <see cref="Recover"/>).</summary>
    public void Inject(string keyId, Fault fault, int count = -1) => _faults[keyId] = new FaultPlan(fault, count);

    /// <summary>Clears any fault of a key.</summary>
    public void Recover(string keyId) => _faults.TryRemove(keyId, out _);

    /// <summary>Sign calls of one key, in order.</summary>
    public IReadOnlyList<KmsCall> SignCallsOf(string keyId) => _calls.Where(c => c.Operation == "Sign" && c.KeyId == keyId).ToList();

    public string Url { get; private set; } = string.Empty;

    public IReadOnlyCollection<KmsCall> Calls => _calls;

    public int SignCalls => _calls.Count(c => c.Operation == "Sign");

    /// <summary>Sign calls answered with a signature.</summary>
    public int SignedCalls => _calls.Count(c => c.Operation == "Sign" && c.Result == "ok");

    /// <summary>Sign calls made with one KMS key id.</summary>
    public int SignCallsFor(string keyId) => _calls.Count(c => c.Operation == "Sign" && c.KeyId == keyId);

    /// <summary>How long each Sign call takes before it answers.</summary>
    public TimeSpan SignLatency { get; set; }

    /// <summary>
    /// The account's Sign quota per second, as AWS enforces it: a call beyond it is a <c>ThrottlingException</c>.
    /// Null: no quota. Counted in <see cref="Throttles"/>.
    /// </summary>
    public double? QuotaPerSecond
    {
        get => _quota;
        set
        {
            lock (_quotaGate)
            {
                _quota = value;
                _quotaTokens = value ?? 0;
                _quotaUpdated = DateTimeOffset.UtcNow;
            }
        }
    }

    private double? _quota;
    private double _quotaTokens;
    private DateTimeOffset _quotaUpdated;
    private readonly Lock _quotaGate = new();
    private int _throttles;

    /// <summary>Calls refused for being over <see cref="QuotaPerSecond"/>.</summary>
    public int Throttles => Volatile.Read(ref _throttles);

    private bool OverQuota()
    {
        lock (_quotaGate)
        {
            if (_quota is not { } quota)
            {
                return false;
            }

            var now = DateTimeOffset.UtcNow;
            _quotaTokens = Math.Min(quota, _quotaTokens + ((now - _quotaUpdated).TotalSeconds * quota));
            _quotaUpdated = now;
            if (_quotaTokens >= 1)
            {
                _quotaTokens--;
                return false;
            }

            return true;
        }
    }

    /// <summary>Serves <paramref name="key"/> under <paramref name="keyId"/> (its private part signs).</summary>
    public void AddKey(string keyId, ECDsa key) => _keys[keyId] = key;

    public static async Task<FakeKmsServer> StartAsync()
    {
        var server = new FakeKmsServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/", server.HandleAsync);
        await app.StartAsync();
        server._app = app;
        server.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return server;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var target = context.Request.Headers["X-Amz-Target"].ToString();
        var body = await JsonNode.ParseAsync(context.Request.Body) as JsonObject ?? [];
        var keyId = body["KeyId"]?.GetValue<string>() ?? string.Empty;
        switch (target)
        {
            case "TrentService.Sign":
                if (SignLatency > TimeSpan.Zero)
                {
                    await Task.Delay(SignLatency, context.RequestAborted);
                }

                var message = Convert.FromBase64String(body["Message"]?.GetValue<string>() ?? string.Empty);
                var messageType = body["MessageType"]?.GetValue<string>();
                var algorithm = body["SigningAlgorithm"]?.GetValue<string>();
                var call = new KmsCall("Sign", keyId, messageType, algorithm, message.Length);
                _calls.Enqueue(call);
                if (OverQuota())
                {
                    Interlocked.Increment(ref _throttles);
                    call.Result = "OverQuota";
                    await ErrorAsync(context, 400, "ThrottlingException", "Rate exceeded");
                    return;
                }

                if (_faults.TryGetValue(keyId, out var plan) && (plan.Remaining < 0 || Interlocked.Decrement(ref plan.Remaining) >= 0))
                {
                    call.Result = plan.Fault.ToString();
                    switch (plan.Fault)
                    {
                        case Fault.Throttle:
                            await ErrorAsync(context, 400, "ThrottlingException", "Rate exceeded");
                            return;
                        case Fault.InternalError:
                            await ErrorAsync(context, 500, "KMSInternalException", "Internal error");
                            return;
                        case Fault.Disabled:
                            await ErrorAsync(context, 400, "DisabledException", $"{Arn(keyId)} is disabled.");
                            return;
                        default:
                            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                            return;
                    }
                }

                if (!_keys.TryGetValue(keyId, out var signingKey))
                {
                    await ErrorAsync(context, 400, "NotFoundException", $"Key '{keyId}' does not exist");
                    return;
                }

                if (messageType != "DIGEST" || algorithm != "ECDSA_SHA_256" || message.Length != 32)
                {
                    await ErrorAsync(context, 400, "ValidationException", "Expected a 32-byte DIGEST with ECDSA_SHA_256");
                    return;
                }

                await JsonAsync(context, new JsonObject
                {
                    ["KeyId"] = Arn(keyId),
                    ["Signature"] = Convert.ToBase64String(signingKey.SignHash(message, DSASignatureFormat.Rfc3279DerSequence)),
                    ["SigningAlgorithm"] = "ECDSA_SHA_256",
                });
                return;
            case "TrentService.GetPublicKey":
                _calls.Enqueue(new KmsCall("GetPublicKey", keyId, null, null, 0));
                if (!_keys.TryGetValue(keyId, out var key))
                {
                    await ErrorAsync(context, 400, "NotFoundException", $"Key '{keyId}' does not exist");
                    return;
                }

                await JsonAsync(context, new JsonObject
                {
                    ["KeyId"] = Arn(keyId),
                    ["PublicKey"] = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()),
                    ["KeySpec"] = "ECC_NIST_P256",
                    ["CustomerMasterKeySpec"] = "ECC_NIST_P256",
                    ["KeyUsage"] = "SIGN_VERIFY",
                    ["SigningAlgorithms"] = new JsonArray("ECDSA_SHA_256"),
                });
                return;
            default:
                await ErrorAsync(context, 400, "UnknownOperationException", $"Unsupported target '{target}'");
                return;
        }
    }

    private static string Arn(string keyId) => $"arn:aws:kms:eu-west-1:000000000000:key/{keyId}";

    private static Task JsonAsync(HttpContext context, JsonObject body)
    {
        context.Response.ContentType = "application/x-amz-json-1.1";
        return context.Response.WriteAsync(body.ToJsonString());
    }

    private static Task ErrorAsync(HttpContext context, int status, string type, string message)
    {
        context.Response.StatusCode = status;
        context.Response.Headers["x-amzn-ErrorType"] = type;
        return JsonAsync(context, new JsonObject { ["__type"] = type, ["message"] = message });
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        foreach (var key in _keys.Values)
        {
            key.Dispose();
        }
    }
}
