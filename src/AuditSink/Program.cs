using EdgeSigner.AuditSink.Hosting;
using EdgeSigner.ServiceDefaults;

return await ServiceProgram.RunAsync("AuditSink", args, builder => builder.AddAuditSink(), app => app.MapServiceDefaults());
