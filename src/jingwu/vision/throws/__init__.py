"""High-altitude thrown-object detection (高空抛物): from a camera at the foot of a tower, a falling
object found, checked against gravity and traced back to the floor and window it came from."""
