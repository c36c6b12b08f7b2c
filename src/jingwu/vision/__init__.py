"""Classical computer vision on the cameras' pictures (no learned weights): what the video workers
and the commands detect in them."""
