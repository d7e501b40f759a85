// The Minitron Workbench in IJava 1.3 (which has no extensions): `%load kernels/ijava-workbench.jsh` in a first
// cell, with the workbench on IJava's classpath (IJAVA_CLASSPATH='jjava-extension/target/minitron-jjava/*').
// The same imports, renderers and live outputs the JJava extension (ai.minitron.jjava.WorkbenchExtension) installs.
// Not run in CI (IJava is not on a registry).
import java.nio.file.*;
import java.util.stream.*;
import ai.minitron.config.*;
import ai.minitron.model.*;
import ai.minitron.io.*;
import ai.minitron.tap.*;
import ai.minitron.progress.*;
import ai.djl.ndarray.*;
import ai.djl.ndarray.types.*;
import tech.tablesaw.api.*;
import ai.minitron.notebook.LiveOutput;
import static ai.minitron.notebook.LiveOutput.live;

void registerWorkbenchRenderer(Class<?> type, String preferred) {
    getKernelInstance().getRenderer().createRegistration((Class<Object>) type).preferring(preferred).supporting("text/plain")
            .register((value, context) -> {
                ai.minitron.kernel.MimeBundle b = ai.minitron.kernel.Renderer.render(value);
                if (b != null) b.data().forEach(context.getOutputContainer()::putData);
            });
}
registerWorkbenchRenderer(tech.tablesaw.api.Table.class, "text/html");
registerWorkbenchRenderer(org.knowm.xchart.internal.chartpart.Chart.class, "image/png");
registerWorkbenchRenderer(java.awt.image.RenderedImage.class, "image/png");
LiveOutput.setBackend(new LiveOutput.Backend() {
    public String show(Object value) { return display(value); }
    public void update(String displayId, Object value) { updateDisplay(displayId, value); }
});
