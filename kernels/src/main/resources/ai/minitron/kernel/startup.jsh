// Imports every notebook session starts with: the one list, edit it here.
// Only packages that exist at build time: StartupImportsTest fails the build if one does not resolve.

// JDK, as the jshell tool's default startup.
import java.io.*;
import java.math.*;
import java.net.*;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.function.*;
import java.util.regex.*;
import java.util.stream.*;

// Minitron Workbench, DJL, Tablesaw.
import ai.minitron.config.*;
import ai.minitron.model.*;
import ai.minitron.io.*;
import ai.minitron.tap.*;
import ai.minitron.progress.*;
import ai.djl.ndarray.*;
import ai.djl.ndarray.types.*;
import tech.tablesaw.api.*;

// The workbench's display API, the same in JJava and IJava: live(x) -> LiveOutput with update(...)/append(...).
import ai.minitron.notebook.LiveOutput;
import static ai.minitron.notebook.LiveOutput.live;

// The kernel's display API: display(x) (a LiveOutput too), html(...), markdown(...), svg(...), png(...).
import ai.minitron.kernel.Displayable;
import ai.minitron.kernel.MimeBundle;
import static ai.minitron.kernel.Display.*;
