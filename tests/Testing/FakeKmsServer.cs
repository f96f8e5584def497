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

    public sealed record KmsCall(string Operation, string KeyId, string? MessageType, string? SigningAlgorithm, int MessageLength);

    public string Url { get; private set; } = string.Empty;

    public IReadOnlyCollection<KmsCall> Calls => _calls;

    public int SignCalls => _calls.Count(c => c.Operation == "Sign");

    /// <summary>Sign calls made with one KMS key id.</summary>
    public int SignCallsFor(string keyId) => _calls.Count(c => c.Operation == "Sign" && c.KeyId == keyId);

    /// <summary>How long each Sign call takes before it answers.</summary>
    public TimeSpan SignLatency { get; set; }

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
                _calls.Enqueue(new KmsCall("Sign", keyId, messageType, algorithm, message.Length));
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
